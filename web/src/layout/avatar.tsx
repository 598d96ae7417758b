// A letter avatar with a stable hue per name, so people are recognisable at a glance.
export function Avatar({ name, size }: { name: string; size?: 'large' }) {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
  return (
    <span class={`avatar${size ? ` avatar--${size}` : ''}`} style={{ '--hue': String(h) }} aria-hidden="true">
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}
