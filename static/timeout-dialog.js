// The timeout warning: HMRC's timeout dialog behaviour (hmrc-frontend src/components/timeout-dialog), written
// for this portal. Read from <meta name="hmrc-timeout-dialog"> which the server renders from the real session.
// - warns `countdown` seconds before `timeout`; "Stay signed in" (or Esc) sends a GET to the keep-alive URL,
//   which renews the server session and does nothing else;
// - the visible countdown is aria-hidden; screen readers hear it in an aria-live region rounded up to 20 s;
// - BroadcastChannel('session-activity') keeps every tab in step;
// - at zero, a POST to sign out (with the CSRF token) lands on "For your security, we signed you out".
const meta = document.querySelector('meta[name="hmrc-timeout-dialog"]');

if (meta) {
  const d = meta.dataset;
  const countdown = Number(d.countdown) * 1000;
  // After an htmx request the server saw activity, but records it to the minute: count from a minute ago.
  const afterActivity = (Number(d.idle) - 60) * 1000;
  let deadline = Date.now() + Number(d.timeout) * 1000;
  let warnTimer = null;
  let tickTimer = null;
  let dialog = null;
  let lastSpoken = '';
  let restoreFocus = null;
  const channel = d.synchroniseTabs === 'true' && 'BroadcastChannel' in window
    ? new BroadcastChannel('session-activity') : null;

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const visibleText = (ms) => {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return s > 60 ? plural(Math.ceil(s / 60), d.minute, d.minutes) : plural(s, d.second, d.seconds);
  };
  const spokenText = (ms) => {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return s > 60 ? plural(Math.ceil(s / 60), d.minute, d.minutes) : plural(Math.ceil(s / 20) * 20, d.second, d.seconds);
  };

  const schedule = () => {
    clearTimeout(warnTimer);
    warnTimer = setTimeout(open, Math.max(0, deadline - countdown - Date.now()));
  };

  const signOut = () => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = d.signOutUrl;
    for (const [name, value] of [['csrf_token', d.csrfToken], ['timed_out', 'yes']]) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  };

  const tick = () => {
    const left = deadline - Date.now();
    if (left <= 0) {
      clearInterval(tickTimer);
      signOut();
      return;
    }
    dialog.querySelector('.app-timeout-dialog__countdown').textContent = visibleText(left);
    const spoken = `${d.message} ${spokenText(left)}. ${d.messageSuffix || ''}`;
    if (spoken !== lastSpoken) {
      lastSpoken = spoken;
      dialog.querySelector('.app-timeout-dialog__live').textContent = spoken;
    }
  };

  const siblings = () => Array.from(document.body.children).filter((el) => el !== dialog && el.tagName !== 'SCRIPT');

  function open() {
    if (dialog) return;
    restoreFocus = document.activeElement;
    dialog = document.createElement('div');
    dialog.className = 'app-timeout-dialog';
    dialog.innerHTML = `
      <div class="app-timeout-dialog__box" role="dialog" aria-modal="true" tabindex="-1"
           aria-labelledby="app-timeout-title" aria-describedby="app-timeout-message">
        <h2 class="govuk-heading-m" id="app-timeout-title"></h2>
        <p class="govuk-body" id="app-timeout-message"><span aria-hidden="true"><span class="app-timeout-dialog__text"></span>
          <strong class="app-timeout-dialog__countdown"></strong>.</span>
          <span class="govuk-visually-hidden app-timeout-dialog__live" aria-live="assertive"></span></p>
        <p class="govuk-body app-timeout-dialog__suffix"></p>
        <div class="govuk-button-group">
          <button type="button" class="govuk-button app-timeout-dialog__keep"></button>
          <a class="govuk-link app-timeout-dialog__sign-out" href="#"></a>
        </div>
      </div>`;
    dialog.querySelector('#app-timeout-title').textContent = d.title;
    dialog.querySelector('.app-timeout-dialog__text').textContent = d.message;
    dialog.querySelector('.app-timeout-dialog__suffix').textContent = d.messageSuffix || '';
    dialog.querySelector('.app-timeout-dialog__keep').textContent = d.keepAliveButtonText;
    const signOutLink = dialog.querySelector('.app-timeout-dialog__sign-out');
    signOutLink.textContent = d.signOutButtonText;
    signOutLink.addEventListener('click', (event) => { event.preventDefault(); signOut(); });
    dialog.querySelector('.app-timeout-dialog__keep').addEventListener('click', keepAlive);
    dialog.addEventListener('keydown', onKey);
    // The page behind is out of reach while the dialog is open: hidden from screen readers, and inert (nothing in it
    // can be clicked or focused, so it holds no targets beside the dialog's own).
    for (const el of siblings()) { el.setAttribute('aria-hidden', 'true'); el.inert = true; }
    document.body.appendChild(dialog);
    document.documentElement.classList.add('app-timeout-dialog-open');
    lastSpoken = '';
    tick();
    tickTimer = setInterval(tick, 1000);
    // The box first (its heading and message are read), then the button.
    const box = dialog.querySelector('.app-timeout-dialog__box');
    box.focus();
    setTimeout(() => dialog && dialog.querySelector('.app-timeout-dialog__keep').focus(), 0);
  }

  function close() {
    if (!dialog) return;
    clearInterval(tickTimer);
    for (const el of siblings()) { el.removeAttribute('aria-hidden'); el.inert = false; }
    dialog.remove();
    dialog = null;
    document.documentElement.classList.remove('app-timeout-dialog-open');
    if (restoreFocus && restoreFocus.focus) restoreFocus.focus();
  }

  function onKey(event) {
    if (event.key === 'Escape') {
      event.preventDefault();
      keepAlive();
      return;
    }
    if (event.key !== 'Tab') return;
    const focusable = Array.from(dialog.querySelectorAll('button, a[href]'));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  }

  const restart = (ms) => {
    deadline = Date.now() + ms;
    close();
    schedule();
  };

  async function keepAlive() {
    let renewed = false;
    try {
      const response = await fetch(d.keepAliveUrl, { credentials: 'same-origin', cache: 'no-store' });
      renewed = response.status === 204;
    } catch (error) {
      renewed = false;
    }
    if (!renewed) {
      window.location.href = d.timeoutUrl;
      return;
    }
    restart(Number(d.idle) * 1000);
    if (channel) channel.postMessage({ idle: Number(d.idle) * 1000 });
  }

  if (channel) channel.onmessage = (event) => restart(event.data && event.data.idle ? event.data.idle : afterActivity);
  document.addEventListener('htmx:afterRequest', (event) => {
    if (event.detail && event.detail.successful) {
      restart(afterActivity);
      if (channel) channel.postMessage({ idle: afterActivity });
    }
  });
  if (channel) channel.postMessage({ idle: Number(d.timeout) * 1000 }); // a page load is activity too
  schedule();
}
