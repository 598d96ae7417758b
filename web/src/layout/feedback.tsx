// The inline result of an action: the server's error message (role=alert, read
// out at once) or its success message (role=status, read out politely).
export function Feedback({ message, error, testid }: { message: string | null; error: string | null; testid: string }) {
  if (error) {
    return (
      <p class="feedback feedback--error" role="alert" data-testid={`${testid}-error`}>
        {error}
      </p>
    );
  }
  if (message) {
    return (
      <p class="feedback feedback--ok" role="status" data-testid={`${testid}-message`}>
        {message}
      </p>
    );
  }
  return null;
}
