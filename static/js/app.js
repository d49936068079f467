// The little JavaScript Twofold needs besides htmx: dismissable toasts, the theme switch, and the phone
// menu's aria-expanded (the menu itself is a popover and opens without JavaScript).
(() => {
  const TOAST_MS = 5000;
  const arm = (toast) => {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    setTimeout(() => toast.remove(), TOAST_MS);
  };
  const armAll = () => document.querySelectorAll("[data-toast]").forEach(arm);
  document.addEventListener("DOMContentLoaded", armAll);
  document.addEventListener("htmx:afterSettle", armAll);
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-toast-close]");
    if (close) close.closest("[data-toast]").remove();
    const toggle = event.target.closest("[data-theme-toggle]");
    if (toggle) {
      const root = document.documentElement;
      const dark = root.dataset.theme
        ? root.dataset.theme === "dark"
        : matchMedia("(prefers-color-scheme: dark)").matches;
      const wanted = dark ? "light" : "dark";
      // Choosing what the system shows drops the override, so the page follows the system again.
      const system = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
      root.dataset.theme = wanted;
      try {
        if (wanted === system) localStorage.removeItem("theme"); else localStorage.setItem("theme", wanted);
      } catch (e) { /* private mode */ }
    }
  });
  const menu = document.getElementById("site-nav");
  const menuButton = document.querySelector("[popovertarget=site-nav]");
  if (menu && menuButton) {
    menuButton.setAttribute("aria-expanded", "false");
    menu.addEventListener("toggle", (event) => menuButton.setAttribute("aria-expanded", String(event.newState === "open")));
  }
  // An action's earlier "please try again" alert goes away when the user tries again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    event.detail.elt.querySelectorAll(":scope > [data-action-error]").forEach((node) => node.remove());
  });
  // A failed htmx request (network down, server error) must never fail silently.
  document.addEventListener("htmx:sendError", () => showToast("Could not reach the server. Check your connection and try again.", "error"));
  document.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status >= 500) showToast("Something went wrong on our side. Nothing was changed; please try again.", "error");
  });
  function showToast(text, level) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const toast = document.createElement("div");
    toast.className = `toast toast-${level}`;
    toast.dataset.toast = "";
    const span = document.createElement("span");
    span.textContent = text;
    const close = document.createElement("button");
    close.type = "button"; close.className = "toast-close"; close.dataset.toastClose = "";
    close.innerHTML = '<svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><path d="M18 6 6 18M6 6l12 12"/></svg>';
    close.setAttribute("aria-label", "Dismiss");
    toast.append(span, close);
    box.append(toast);
    arm(toast);
  }
  window.twofold = { showToast };
})();
