// A titled card on a page. Sections that later features fill in (live stream,
// recordings) are mounted through it: with no children it renders nothing, so
// a page never shows an empty box for a feature that is not built yet.
import type { ComponentChildren } from 'preact';
import { toChildArray } from 'preact';

interface Props {
  title: string;
  /** data-testid of the <section>; the heading gets `${testid}-title`. */
  testid: string;
  /** Extra content on the heading row (counts, small actions). */
  aside?: ComponentChildren;
  children?: ComponentChildren;
  class?: string;
}

export function SectionCard({ title, testid, aside, children, class: cls }: Props) {
  if (toChildArray(children).length === 0) return null;
  const headingId = `${testid}-title`;
  return (
    <section class={`card ${cls ?? ''}`} aria-labelledby={headingId} data-testid={testid}>
      <header class="card__header">
        <h2 id={headingId} class="card__title">
          {title}
        </h2>
        {aside}
      </header>
      {children}
    </section>
  );
}
