// Entry point: mounts the console into #app.
import { render } from 'preact';
import { App } from './app.js';
// In cascade order: the narrow-window rules come last so they win.
import './styles/base.css';
import './styles/layout.css';
import './styles/forms.css';
import './styles/data.css';
import './styles/dialogs.css';
import './styles/narrow.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
