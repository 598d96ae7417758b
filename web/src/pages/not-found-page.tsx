import { Link } from '../router.js';

export function NotFoundPage() {
  return (
    <main class="page page--narrow" id="main" data-testid="not-found-page">
      <div class="card">
        <h1 class="page__title" id="main-heading" tabIndex={-1}>
          Page not found
        </h1>
        <p>
          <Link href="/">Back to your friends</Link>
        </p>
      </div>
    </main>
  );
}
