import { render } from 'preact';
import { App } from './app.js';
import { session } from './session.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
void session.load();
