// Send a friend request by exact username.
import { useState } from 'preact/hooks';
import { Feedback } from '../layout/feedback.js';
import { useAction } from '../use-action.js';
import { friendActions } from './friend-actions.js';

const USERNAME = /^[a-z0-9_]{3,30}$/;

export function AddFriendForm() {
  const [username, setUsername] = useState('');
  const action = useAction();
  const [localError, setLocalError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const name = username.trim().toLowerCase();
    if (!USERNAME.test(name)) {
      action.clear();
      setLocalError('Usernames are 3–30 characters: letters, digits and underscores.');
      return;
    }
    setLocalError(null);
    const ok = await action.run(() => friendActions.sendRequest(name), `Friend request sent to ${name}.`);
    if (ok) setUsername('');
  };

  return (
    <form class="add-friend" onSubmit={submit} noValidate data-testid="add-friend-form">
      <label class="field__label" for="add-friend-username">
        Username
      </label>
      <div class="add-friend__row">
        <input
          id="add-friend-username"
          class="input"
          name="username"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          placeholder="e.g. alice"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
          aria-invalid={localError || action.error ? 'true' : undefined}
          aria-describedby="add-friend-feedback"
          data-testid="add-friend-input"
        />
        <button class="button button--primary" type="submit" disabled={action.busy} data-testid="add-friend-submit">
          {action.busy ? 'Sending…' : 'Send request'}
        </button>
      </div>
      <div id="add-friend-feedback">
        <Feedback message={action.message} error={localError ?? action.error} testid="add-friend" />
      </div>
    </form>
  );
}
