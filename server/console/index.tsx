/** The admin console bundle (dist/admin/admin.js): mounts the App into the page. */
import { render } from 'preact';
import { App } from './App.tsx';

render(<App />, document.getElementById('app')!);
