// Passkeys and security keys (WebAuthn) for the sign-in and security pages. Progressive: the buttons stay
// hidden unless the browser has WebAuthn, and without JavaScript people use their authenticator app.
// The options come from the server (py_webauthn's JSON); the browser's answer goes back in a form field.
const toBytes = (value) => {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (value.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
};
const toText = (buffer) => {
  if (!buffer) return null;
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const supported = 'PublicKeyCredential' in window && navigator.credentials;

const submit = (button, credential) => {
  const form = button.closest('form');
  form.querySelector('input[name="credential"]').value = JSON.stringify(credential);
  form.submit();
};

const creation = (options) => ({
  ...options,
  challenge: toBytes(options.challenge),
  user: { ...options.user, id: toBytes(options.user.id) },
  excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
});

const request = (options) => ({
  ...options,
  challenge: toBytes(options.challenge),
  allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
});

// What is shown is decided by accounts.css before the first paint (a browser that runs this module almost
// always has WebAuthn), so nothing moves when this script arrives; only a browser without it is told here.
if (!supported) document.body.classList.add('app-no-webauthn');
if (supported) {

  for (const button of document.querySelectorAll('[data-passkey-create]')) {
    button.addEventListener('click', async () => {
      try {
        const made = await navigator.credentials.create({ publicKey: creation(JSON.parse(button.dataset.options)) });
        submit(button, {
          id: made.id, rawId: toText(made.rawId), type: made.type,
          response: {
            clientDataJSON: toText(made.response.clientDataJSON),
            attestationObject: toText(made.response.attestationObject),
            transports: made.response.getTransports ? made.response.getTransports() : [],
          },
          clientExtensionResults: made.getClientExtensionResults(),
          authenticatorAttachment: made.authenticatorAttachment,
        });
      } catch (error) {
        submit(button, { error: String(error && error.name) });
      }
    });
  }

  for (const button of document.querySelectorAll('[data-passkey-get]')) {
    button.addEventListener('click', async () => {
      try {
        const got = await navigator.credentials.get({ publicKey: request(JSON.parse(button.dataset.options)) });
        submit(button, {
          id: got.id, rawId: toText(got.rawId), type: got.type,
          response: {
            clientDataJSON: toText(got.response.clientDataJSON),
            authenticatorData: toText(got.response.authenticatorData),
            signature: toText(got.response.signature),
            userHandle: toText(got.response.userHandle),
          },
          clientExtensionResults: got.getClientExtensionResults(),
          authenticatorAttachment: got.authenticatorAttachment,
        });
      } catch (error) {
        submit(button, { error: String(error && error.name) });
      }
    });
  }
}
