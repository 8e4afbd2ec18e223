// The recap's Print button (a file, not an inline handler: a Content-Security-Policy may forbid those).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
