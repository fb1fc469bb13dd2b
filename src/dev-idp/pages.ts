import { createHash } from 'node:crypto';

/**
 * HTML pages of the dev identity provider. No scripts at all (works under a strict Content-Security-Policy);
 * the only styling is one `<style>` block. Everything echoed into HTML goes through `escapeHtml`.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f3f4f6; margin: 0; padding: 48px 16px; color: #111827; }
  main { max-width: 360px; margin: 0 auto; background: #fff; border-radius: 8px; padding: 24px 28px;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.25rem; margin: 0 0 4px; }
  p.sub { margin: 0 0 20px; color: #6b7280; font-size: .875rem; }
  label { display: block; font-size: .875rem; margin: 12px 0 4px; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: 8px 10px;
         border: 1px solid #d1d5db; border-radius: 4px; font-size: 1rem; }
  button { margin-top: 20px; width: 100%; padding: 10px; border: 0; border-radius: 4px; background: #2563eb;
         color: #fff; font-size: 1rem; cursor: pointer; }
  button.secondary { background: #e5e7eb; color: #111827; margin-top: 8px; }
  .error { background: #fee2e2; color: #991b1b; padding: 8px 10px; border-radius: 4px; font-size: .875rem; }
  .hint { margin-top: 20px; font-size: .75rem; color: #6b7280; }
  code { font-size: .75rem; }
  pre { white-space: pre-wrap; word-break: break-word; font-size: .8rem; }
`;

/**
 * Content-Security-Policy for these pages: no scripts, no external loads; the one `<style>` block is allowed by hash.
 * (No `form-action`: browsers apply it to the redirect chain after the login POST, which ends at the client.)
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`,
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export interface LoginPageInput {
  realm: string;
  action: string;
  clientId: string;
  username?: string;
  error?: string;
}

export function renderLoginPage(input: LoginPageInput): string {
  const error = input.error ? `<p class="error" role="alert" id="input-error">${escapeHtml(input.error)}</p>` : '';
  return layout(
    `Sign in to ${input.realm}`,
    `<h1>Sign in to ${escapeHtml(input.realm)}</h1>
<p class="sub">Development identity provider &middot; client <code>${escapeHtml(input.clientId)}</code></p>
${error}
<form id="kc-form-login" method="post" action="${escapeHtml(input.action)}" autocomplete="off">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${escapeHtml(input.username ?? '')}" autofocus required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button id="kc-login" type="submit" name="login" value="login">Sign in</button>
</form>
<p class="hint">Dev users: <code>admin/admin</code> (admin), <code>alice/alice</code>, <code>bob/bob</code>.</p>`,
  );
}

export function renderMessagePage(title: string, message: string, details?: Record<string, unknown>): string {
  const rows = Object.entries(details ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<pre><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</pre>`)
    .join('\n');
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>\n${rows}`);
}

/** `form` is oidc-provider's own hidden logout form (`id="op.logoutForm"`, with an xsrf field). */
export function renderLogoutPage(host: string, form: string): string {
  return layout(
    'Sign out',
    `<h1>Sign out of ${escapeHtml(host)}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}
