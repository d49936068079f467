// The little JavaScript Twofold needs besides htmx: dismissable toasts and the theme switch.
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
      root.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("theme", root.dataset.theme); } catch (e) { /* private mode */ }
    }
  });
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
    close.type = "button"; close.className = "toast-close"; close.dataset.toastClose = ""; close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss");
    toast.append(span, close);
    box.append(toast);
    arm(toast);
  }
  window.twofold = { showToast };
})();
