// Passkeys: registration on the security page, sign-in on the login, second-step and re-authentication
// pages. The server's JSON endpoints hold the challenges and check the answers; this only carries them
// to navigator.credentials and back. Without JavaScript (or WebAuthn) the controls stay hidden.
(() => {
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return;
  const csrf = () => (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value
    || JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (data.code === "sudo_required" && data.redirect) { location.assign(data.redirect); throw null; }
    if (!response.ok) throw new Error(data.detail || "Something went wrong. Please try again.");
    return data;
  }
  const say = (box, error) => {
    const slot = box.querySelector("[data-passkey-error]");
    if (!slot || error === null) return;
    // A cancelled or timed-out prompt is the person's choice, not our error.
    const text = error.name === "NotAllowedError" ? "The passkey prompt was closed. Try again when ready."
      : error.name === "InvalidStateError" ? "This device already holds a passkey for your account."
      : error.message;
    slot.textContent = text;
    slot.hidden = !text;
  };
  // Where to go after: the page's own form's `next` (inside <main>: the top bar's forms carry theirs).
  const next = () => (document.querySelector("main input[name=next]") || {}).value
    || new URLSearchParams(location.search).get("next") || "";

  const register = document.querySelector("[data-passkey-register]");
  if (register) {
    register.hidden = false;
    document.querySelectorAll("[data-passkey-unsupported]").forEach((node) => node.remove());
    register.addEventListener("submit", async (event) => {
      event.preventDefault();
      say(register, { message: "" });
      try {
        const options = await post("/accounts/passkeys/register/options/", {});
        const credential = await navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
        });
        const done = await post("/accounts/passkeys/register/verify/", {
          name: register.elements.name.value, credential: credential.toJSON(),
        });
        location.assign(done.redirect);
      } catch (error) { say(register, error); }
    });
  }

  let autofill = null;
  async function signIn(box, purpose, conditional) {
    const options = await post("/accounts/passkeys/auth/options/", { purpose });
    const request = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) };
    if (conditional) {
      autofill = new AbortController();
      Object.assign(request, { mediation: "conditional", signal: autofill.signal });
    }
    const credential = await navigator.credentials.get(request);
    const done = await post("/accounts/passkeys/auth/verify/", {
      purpose, next: next(), credential: credential.toJSON(),
    });
    location.assign(done.redirect);
  }
  document.querySelectorAll("[data-passkey-signin]").forEach(async (box) => {
    const purpose = box.dataset.passkeySignin;
    box.hidden = false;
    box.querySelector("[data-passkey-button]").addEventListener("click", () => {
      if (autofill) { autofill.abort(); autofill = null; }
      say(box, { message: "" });
      signIn(box, purpose, false).catch((error) => say(box, error));
    });
    // The browser's autofill offers passkeys in the email field, where it can.
    if ("passkeyAutofill" in box.dataset && await PublicKeyCredential.isConditionalMediationAvailable?.()) {
      signIn(box, purpose, true).catch((error) => { if (error && error.name !== "AbortError") say(box, error); });
    }
  });
})();
