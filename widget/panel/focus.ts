/**
 * Keyboard handling for the dialog: Tab and Shift+Tab cycle inside it (a modal must not let
 * focus wander into the page behind), Escape closes it.
 */
const FOCUSABLE = 'button,input,textarea,select,a[href],[tabindex]:not([tabindex="-1"])';

/** The focusable, enabled, visible elements inside `container`, in tab order. */
export function focusables(container: Element): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !(el as HTMLButtonElement).disabled && !el.hidden,
  );
}

/** The element that has focus, looking inside our shadow root rather than at its host. */
export function activeIn(container: Element): Element | null {
  return (container.getRootNode() as Document | ShadowRoot).activeElement;
}

export function onDialogKey(event: KeyboardEvent, container: Element, close: () => void): void {
  if (event.key === 'Escape') {
    event.preventDefault();
    event.stopPropagation();
    return close();
  }
  if (event.key !== 'Tab') return;
  const items = focusables(container);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  const active = activeIn(container);
  const outside = !active || !items.includes(active as HTMLElement);
  if (event.shiftKey && (active === first || outside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || outside)) {
    event.preventDefault();
    first.focus();
  }
}
