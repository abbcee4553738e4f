/*
 * The host app's own code: who is signed in, the user switcher, and the buttons that drive the
 * widget through its command queue. It knows nothing about Parley beyond `Parley.push`, like
 * any integrator's app. Runs before the embed snippet, which asks it for the current user.
 */
(function () {
  var KEY = 'acme-demo:user';
  var users = window.AcmeUsers;

  /** The signed-in user, remembered across reloads; null when signed out. */
  function currentUser() {
    var id;
    try {
      id = localStorage.getItem(KEY);
    } catch (e) {
      id = null;
    }
    if (id === 'none') return null;
    for (var i = 0; i < users.length; i++) if (users[i].id === id) return users[i];
    return users[0];
  }

  function remember(id) {
    try {
      localStorage.setItem(KEY, id);
    } catch (e) {
      /* private mode: the switch lasts for this page only */
    }
  }

  function queue() {
    window.Parley = window.Parley || [];
    return window.Parley;
  }

  /** Shows who the page says is signed in, and the identity it hands to Parley, as text. */
  function render(user) {
    var select = document.getElementById('user');
    select.value = user ? user.id : 'none';
    document.getElementById('avatar').textContent = user ? user.name.charAt(0) : '?';
    document.getElementById('account').textContent = user
      ? user.account.name + ' · ' + user.account.plan + ' plan'
      : 'Signed out';
    document.getElementById('identity').textContent = user
      ? JSON.stringify(user, null, 2)
      : '// Signed out: nothing is identified. The widget asks for an email instead.';
  }

  /**
   * Switching user is what a real app does on sign-out and sign-in: close the panel (it was
   * opened for the previous person), forget them, then identify the new one.
   */
  function switchTo(id) {
    remember(id);
    var user = currentUser();
    queue().push(['hide']);
    queue().push(['logout']);
    if (user) queue().push(['identify', user]);
    render(user);
  }

  function fillUsers(select) {
    users.forEach(function (u) {
      var option = document.createElement('option');
      option.value = u.id;
      option.textContent = u.name + ' — ' + u.account.name + ' (' + u.account.plan + ')';
      select.appendChild(option);
    });
    var none = document.createElement('option');
    none.value = 'none';
    none.textContent = 'Nobody (signed out)';
    select.appendChild(none);
  }

  window.AcmeDemo = { currentUser: currentUser };

  document.addEventListener('DOMContentLoaded', function () {
    var select = document.getElementById('user');
    fillUsers(select);
    select.addEventListener('change', function () {
      switchTo(select.value);
    });
    document.getElementById('suggest').addEventListener('click', function () {
      queue().push(['show', 'idea']);
    });
    document.getElementById('rate').addEventListener('click', function () {
      queue().push(['autoprompt']);
    });
    render(currentUser());
  });
})();
