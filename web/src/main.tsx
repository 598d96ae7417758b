import { render } from 'preact';

render(<main>hushcast</main>, document.getElementById('app')!);
