// The /developers page: puts this server's own origin into the code samples (the static HTML
// says http://127.0.0.1:3000) and adds a copy button to each sample. No build step.
"use strict";

(function () {
  if (window.location.protocol === "http:" || window.location.protocol === "https:") {
    for (const node of document.querySelectorAll(".origin")) {
      node.textContent = window.location.origin;
    }
  }

  async function copy(text, button) {
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (_) {
        copied = false;
      }
    }
    button.textContent = copied ? "Copied" : "Select and copy";
    if (!copied) {
      const range = document.createRange();
      range.selectNodeContents(button.parentElement.querySelector("code"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    window.setTimeout(() => {
      button.textContent = "Copy";
    }, 2000);
  }

  for (const pre of document.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    if (!code) {
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary copy-code";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this example");
    button.addEventListener("click", () => copy(code.textContent, button));
    pre.appendChild(button);
  }
})();
