// The /settings/api-keys page of the clab-keys example apps. Plain JavaScript, no build step.
//
// The session JWT lives in sessionStorage (gone when the tab closes). Server data is only ever
// written with textContent, never as HTML. A new key's token is shown once and removed from
// the page when it is hidden.
"use strict";

(function () {
  const STORAGE_TOKEN = "clab-keys-example.jwt";
  const STORAGE_EMAIL = "clab-keys-example.email";
  const STORAGE_EXPIRES = "clab-keys-example.expires-at";
  const DEFAULT_KEY_LIMIT = 10;

  const $ = (id) => document.getElementById(id);
  const el = {
    message: $("message"),
    loginSection: $("login-section"),
    loginForm: $("login-form"),
    loginEmail: $("login-email"),
    loginPassword: $("login-password"),
    loginSubmit: $("login-submit"),
    keysSection: $("keys-section"),
    sessionEmail: $("session-email"),
    logout: $("logout"),
    createForm: $("create-form"),
    keyName: $("key-name"),
    keyExpiry: $("key-expiry"),
    createKey: $("create-key"),
    tokenPanel: $("new-token-panel"),
    tokenName: $("new-token-name"),
    token: $("new-token"),
    copyToken: $("copy-token"),
    copyStatus: $("copy-status"),
    dismissToken: $("dismiss-token"),
    keysTable: $("keys-table"),
    keysBody: $("keys-body"),
    keysEmpty: $("keys-empty"),
    keysSummary: $("keys-summary"),
    rotatePanel: $("rotate-panel"),
    rotateName: $("rotate-name"),
    rotateForm: $("rotate-form"),
    rotateGrace: $("rotate-grace"),
    rotateSubmit: $("rotate-submit"),
    rotateCancel: $("rotate-cancel"),
    renamePanel: $("rename-panel"),
    renameName: $("rename-name"),
    renameForm: $("rename-form"),
    renameInput: $("rename-input"),
    renameSubmit: $("rename-submit"),
    renameCancel: $("rename-cancel"),
  };

  // Why a key was revoked, as the list's revocation_reason says it.
  const REASONS = {
    user: "revoked by you",
    rotated: "replaced by a rotation",
    leaked: "found in public (leaked)",
    owner: "the account was disabled",
    admin: "revoked by an administrator",
  };

  // ---- Messages -----------------------------------------------------------------------

  function showMessage(text, kind) {
    el.message.dataset.kind = kind || "info";
    // Clear first so the same text twice is announced twice.
    el.message.textContent = "";
    window.setTimeout(() => {
      el.message.textContent = text;
    }, 30);
  }

  function clearMessage() {
    el.message.textContent = "";
    delete el.message.dataset.kind;
  }

  // ---- Session ------------------------------------------------------------------------

  function session() {
    const token = sessionStorage.getItem(STORAGE_TOKEN);
    const expiresAt = Number(sessionStorage.getItem(STORAGE_EXPIRES) || 0);
    if (!token || (expiresAt && Date.now() >= expiresAt)) {
      return null;
    }
    return { token, email: sessionStorage.getItem(STORAGE_EMAIL) || "" };
  }

  function saveSession(token, email, expiresIn) {
    sessionStorage.setItem(STORAGE_TOKEN, token);
    sessionStorage.setItem(STORAGE_EMAIL, email);
    sessionStorage.setItem(STORAGE_EXPIRES, String(Date.now() + Number(expiresIn || 3600) * 1000));
  }

  function clearSession() {
    sessionStorage.removeItem(STORAGE_TOKEN);
    sessionStorage.removeItem(STORAGE_EMAIL);
    sessionStorage.removeItem(STORAGE_EXPIRES);
  }

  function showLogin(focus) {
    hideToken();
    closeRotate();
    closeRename();
    el.keysSection.hidden = true;
    el.loginSection.hidden = false;
    el.keysBody.textContent = "";
    if (focus) {
      el.loginEmail.focus();
    }
  }

  function showKeys(email) {
    el.loginSection.hidden = true;
    el.keysSection.hidden = false;
    el.sessionEmail.textContent = email || "(unknown)";
  }

  // ---- HTTP ---------------------------------------------------------------------------

  class SessionExpired extends Error {}

  async function readJson(response) {
    try {
      return await response.json();
    } catch (_) {
      return null;
    }
  }

  // Calls the API with the session token. A 401 ends the session and shows the login form.
  async function api(method, path, body) {
    const current = session();
    if (!current) {
      sessionExpired();
      throw new SessionExpired();
    }
    const init = {
      method,
      headers: { Authorization: "Bearer " + current.token, Accept: "application/json" },
      cache: "no-store",
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      sessionExpired();
      throw new SessionExpired();
    }
    return response;
  }

  function sessionExpired() {
    clearSession();
    showLogin(true);
    showMessage("Your session has expired. Please log in again.", "error");
  }

  function serverMessage(data, fallback) {
    return data && typeof data.message === "string" && data.message ? data.message : fallback;
  }

  function describeFailure(status, data, what) {
    if (status === 503) {
      return "The service is temporarily unavailable. Please try again in a few seconds.";
    }
    if (status === 403 && data && data.error === "reauthentication_required") {
      return "For your security, creating or rotating a key needs a recent login. " +
        "Please log in again, then repeat the action.";
    }
    if (status === 403) {
      return serverMessage(data, "This action needs an interactive session.");
    }
    if (status >= 400 && status < 500) {
      return serverMessage(data, what + " was refused (HTTP " + status + ").");
    }
    return what + " failed (HTTP " + status + "). Please try again.";
  }

  // A 403 reauthentication_required: the session is valid but its login too old for this
  // action. The user logs in again; nothing else is wrong.
  function needsLogin(response, data) {
    if (response.status !== 403 || !data || data.error !== "reauthentication_required") {
      return false;
    }
    clearSession();
    showLogin(true);
    showMessage(describeFailure(403, data, ""), "error");
    return true;
  }

  function networkError() {
    showMessage("Could not reach the server. Check your connection and try again.", "error");
  }

  // ---- Login --------------------------------------------------------------------------

  async function onLogin(event) {
    event.preventDefault();
    clearMessage();
    const email = el.loginEmail.value.trim();
    const password = el.loginPassword.value;
    el.loginEmail.removeAttribute("aria-invalid");
    el.loginPassword.removeAttribute("aria-invalid");
    if (!email || !password) {
      const missing = !email ? el.loginEmail : el.loginPassword;
      missing.setAttribute("aria-invalid", "true");
      missing.focus();
      showMessage("Enter your email and password.", "error");
      return;
    }
    el.loginSubmit.disabled = true;
    try {
      const response = await fetch("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ email, password }),
        cache: "no-store",
      });
      const data = await readJson(response);
      if (response.ok && data && data.access_token) {
        saveSession(data.access_token, email, data.expires_in);
        el.loginPassword.value = "";
        showKeys(email);
        showMessage("Signed in as " + email + ".", "success");
        el.keyName.focus();
        await loadKeys();
      } else if (response.status === 401) {
        el.loginPassword.value = "";
        el.loginPassword.setAttribute("aria-invalid", "true");
        el.loginPassword.focus();
        showMessage("The email or password is not correct.", "error");
      } else {
        showMessage(describeFailure(response.status, data, "Logging in"), "error");
      }
    } catch (_) {
      networkError();
    } finally {
      el.loginSubmit.disabled = false;
    }
  }

  function onLogout() {
    clearSession();
    clearMessage();
    showLogin(true);
    showMessage("You have logged out.", "info");
  }

  // ---- Create -------------------------------------------------------------------------

  async function onCreate(event) {
    event.preventDefault();
    clearMessage();
    const name = el.keyName.value.trim();
    el.keyName.removeAttribute("aria-invalid");
    if (!name) {
      el.keyName.setAttribute("aria-invalid", "true");
      el.keyName.focus();
      showMessage("Give the key a name, so you can recognise it later.", "error");
      return;
    }
    const body = { name };
    if (el.keyExpiry.value !== "") {
      body.expires_in_days = Number(el.keyExpiry.value);
    }
    const scopes = Array.from(el.createForm.querySelectorAll('input[name="scope"]:checked')).map(
      (box) => box.value,
    );
    if (scopes.length > 0) {
      body.scopes = scopes;
    }
    el.createKey.disabled = true;
    try {
      const response = await api("POST", "/api/user/api-keys", body);
      const data = await readJson(response);
      if (response.status === 201 && data && data.token) {
        el.keyName.value = "";
        for (const box of el.createForm.querySelectorAll('input[name="scope"]')) {
          box.checked = false;
        }
        revealToken(data);
        showMessage("Key \u201c" + data.name + "\u201d created. Copy it now.", "success");
        await loadKeys();
      } else if (needsLogin(response, data)) {
        // The login form is shown.
      } else if (response.status === 409) {
        const limit = keyLimit(data);
        showMessage(
          "Limit of " + limit + " keys reached \u2014 revoke one first, then create the new key.",
          "error",
        );
      } else {
        if (response.status === 400 && data && data.error === "invalid_name") {
          el.keyName.setAttribute("aria-invalid", "true");
          el.keyName.focus();
        }
        showMessage(describeFailure(response.status, data, "Creating the key"), "error");
      }
    } catch (error) {
      if (!(error instanceof SessionExpired)) {
        networkError();
      }
    } finally {
      el.createKey.disabled = false;
    }
  }

  function keyLimit(data) {
    const match = /(\d+)/.exec(serverMessage(data, ""));
    return match ? match[1] : String(DEFAULT_KEY_LIMIT);
  }

  function revealToken(data) {
    el.tokenName.textContent = "\u201c" + data.name + "\u201d";
    el.token.textContent = data.token;
    el.tokenPanel.dataset.keyId = data.id;
    el.copyStatus.textContent = "";
    el.tokenPanel.hidden = false;
    el.tokenPanel.focus();
  }

  function hideToken() {
    el.token.textContent = "";
    el.tokenName.textContent = "";
    el.copyStatus.textContent = "";
    el.tokenPanel.hidden = true;
    delete el.tokenPanel.dataset.keyId;
  }

  function onDismissToken() {
    hideToken();
    el.keyName.focus();
  }

  // ---- Copy ---------------------------------------------------------------------------

  function selectToken() {
    const range = document.createRange();
    range.selectNodeContents(el.token);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function onCopy() {
    const text = el.token.textContent;
    if (!text) {
      return;
    }
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        el.copyStatus.textContent = "Copied to the clipboard.";
        return;
      } catch (_) {
        // Permission denied or not focused: fall back to selecting the text.
      }
    }
    selectToken();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    el.copyStatus.textContent = copied
      ? "Copied to the clipboard."
      : "The key is selected: press Ctrl+C (\u2318C on a Mac) to copy it.";
  }

  // ---- List and revoke ----------------------------------------------------------------

  function formatTime(value) {
    if (!value) {
      return null;
    }
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      return null;
    }
    const node = document.createElement("time");
    node.dateTime = value;
    node.title = value;
    node.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    return node;
  }

  function statusOf(key) {
    if (key.revoked_at) {
      return "revoked";
    }
    if (key.expires_at && new Date(key.expires_at).getTime() <= Date.now()) {
      return "expired";
    }
    // Rotated with a grace period: it still works, until its expiry.
    if (key.replaced_by) {
      return "ending";
    }
    return "active";
  }

  // The line under the status badge: why a key was revoked, or when a replaced key stops.
  function statusDetail(key, status) {
    const detail = document.createElement("span");
    detail.className = "status-detail";
    if (status === "revoked" && key.revocation_reason) {
      detail.dataset.testid = "reason-" + key.id;
      detail.textContent = REASONS[key.revocation_reason] || key.revocation_reason;
      return detail;
    }
    if (status === "ending") {
      detail.dataset.testid = "grace-" + key.id;
      detail.append("replaced; stops ");
      detail.appendChild(formatTime(key.expires_at) || document.createTextNode("soon"));
      return detail;
    }
    return null;
  }

  function actionButton(label, testid, ariaLabel, className, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.dataset.testid = testid;
    button.textContent = label;
    button.setAttribute("aria-label", ariaLabel);
    button.addEventListener("click", () => onClick(button));
    return button;
  }

  function cell(row, content, fallback) {
    const td = document.createElement("td");
    if (content instanceof Node) {
      td.appendChild(content);
    } else if (content) {
      td.textContent = content;
    } else {
      td.textContent = fallback;
    }
    row.appendChild(td);
    return td;
  }

  function renderKeys(keys) {
    el.keysBody.textContent = "";
    let active = 0;
    let ending = 0;
    for (const key of keys) {
      const status = statusOf(key);
      if (status === "active") {
        active += 1;
      } else if (status === "ending") {
        ending += 1;
      }
      const row = document.createElement("tr");
      row.dataset.keyId = key.id;
      row.dataset.status = status;

      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = key.name;
      row.appendChild(name);

      const prefix = document.createElement("code");
      prefix.textContent = key.prefix;
      cell(row, prefix, "");
      cell(row, formatTime(key.created_at), "\u2014");
      cell(row, formatTime(key.expires_at), "Never");
      cell(row, formatTime(key.last_used_at), "Never");

      const badge = document.createElement("span");
      badge.className = "status status-" + status;
      badge.dataset.status = status;
      badge.textContent = status;
      const statusCell = cell(row, badge, "");
      const detail = statusDetail(key, status);
      if (detail) {
        statusCell.appendChild(detail);
      }

      const actions = cell(row, null, "");
      const buttons = document.createElement("div");
      buttons.className = "row-actions";
      const what = " key " + key.name + " (" + key.prefix + ")";
      if (status === "active") {
        buttons.appendChild(
          actionButton("Rotate", "rotate-" + key.id, "Rotate" + what, "secondary small", () =>
            openRotate(key),
          ),
        );
      }
      if (status === "active" || status === "ending") {
        buttons.appendChild(
          actionButton("Rename", "rename-" + key.id, "Rename" + what, "secondary small", () =>
            openRename(key),
          ),
        );
        const revoke = actionButton("Revoke", "revoke-" + key.id, "Revoke" + what, "danger", (b) =>
          onRevoke(key, b),
        );
        revoke.dataset.revoke = key.id;
        buttons.appendChild(revoke);
      }
      actions.appendChild(buttons);
      el.keysBody.appendChild(row);
    }
    el.keysEmpty.hidden = keys.length > 0;
    el.keysTable.hidden = keys.length === 0;
    el.keysSummary.textContent =
      keys.length === 0
        ? ""
        : active + " active" + (ending ? ", " + ending + " in a grace period," : "") + " of " +
          keys.length + " key" + (keys.length === 1 ? "" : "s") + ".";
  }

  async function loadKeys() {
    try {
      const response = await api("GET", "/api/user/api-keys");
      const data = await readJson(response);
      if (response.ok && Array.isArray(data)) {
        renderKeys(data);
      } else {
        showMessage(describeFailure(response.status, data, "Loading your keys"), "error");
      }
    } catch (error) {
      if (!(error instanceof SessionExpired)) {
        networkError();
      }
    }
  }

  async function onRevoke(key, button) {
    const question =
      "Revoke the key \u201c" + key.name + "\u201d (" + key.prefix + ")?\n\n" +
      "Anything using it stops working at once: this server refuses it from the next " +
      "request on, and every other server of this app within a second. This cannot be undone.";
    if (!window.confirm(question)) {
      button.focus();
      return;
    }
    button.disabled = true;
    try {
      const response = await api("DELETE", "/api/user/api-keys/" + encodeURIComponent(key.id));
      if (response.status === 204) {
        if (el.tokenPanel.dataset.keyId === key.id) {
          // The revealed token is dead now: stop showing it.
          hideToken();
        }
        showMessage("Key \u201c" + key.name + "\u201d revoked.", "success");
      } else if (response.status === 404) {
        showMessage("That key no longer exists.", "error");
      } else {
        const data = await readJson(response);
        showMessage(describeFailure(response.status, data, "Revoking the key"), "error");
      }
      await loadKeys();
      el.keyName.focus();
    } catch (error) {
      if (!(error instanceof SessionExpired)) {
        networkError();
      }
      button.disabled = false;
    }
  }

  // ---- Rotate and rename --------------------------------------------------------------

  let rotating = null;
  let renaming = null;

  function openRotate(key) {
    closeRename();
    rotating = key;
    el.rotateName.textContent = "\u201c" + key.name + "\u201d (" + key.prefix + ")";
    el.rotateGrace.value = "0";
    el.rotatePanel.hidden = false;
    el.rotatePanel.focus();
  }

  function closeRotate() {
    rotating = null;
    el.rotatePanel.hidden = true;
  }

  function openRename(key) {
    closeRotate();
    renaming = key;
    el.renameName.textContent = "\u201c" + key.name + "\u201d (" + key.prefix + ")";
    el.renameInput.value = key.name;
    el.renameInput.removeAttribute("aria-invalid");
    el.renamePanel.hidden = false;
    el.renameInput.focus();
    el.renameInput.select();
  }

  function closeRename() {
    renaming = null;
    el.renamePanel.hidden = true;
  }

  function graceText(seconds) {
    const option = el.rotateGrace.querySelector('option[value="' + seconds + '"]');
    return option ? option.textContent.toLowerCase() : "later";
  }

  async function onRotate(event) {
    event.preventDefault();
    if (!rotating) {
      return;
    }
    clearMessage();
    const key = rotating;
    const grace = Number(el.rotateGrace.value);
    el.rotateSubmit.disabled = true;
    try {
      const response = await api(
        "POST",
        "/api/user/api-keys/" + encodeURIComponent(key.id) + "/rotate",
        { grace_seconds: grace },
      );
      const data = await readJson(response);
      if (response.status === 201 && data && data.token) {
        closeRotate();
        revealToken(data);
        showMessage(
          "Key \u201c" + data.name + "\u201d rotated. Copy the new key now; the old one " +
            (grace === 0 ? "no longer works." : "stops " + graceText(grace) + "."),
          "success",
        );
        await loadKeys();
      } else if (needsLogin(response, data)) {
        closeRotate();
      } else if (response.status === 409) {
        closeRotate();
        showMessage("That key is revoked, expired or already replaced.", "error");
        await loadKeys();
      } else {
        showMessage(describeFailure(response.status, data, "Rotating the key"), "error");
      }
    } catch (error) {
      if (!(error instanceof SessionExpired)) {
        networkError();
      }
    } finally {
      el.rotateSubmit.disabled = false;
    }
  }

  async function onRename(event) {
    event.preventDefault();
    if (!renaming) {
      return;
    }
    clearMessage();
    const key = renaming;
    const name = el.renameInput.value.trim();
    el.renameInput.removeAttribute("aria-invalid");
    if (!name) {
      el.renameInput.setAttribute("aria-invalid", "true");
      el.renameInput.focus();
      showMessage("Give the key a name.", "error");
      return;
    }
    el.renameSubmit.disabled = true;
    try {
      const response = await api("PATCH", "/api/user/api-keys/" + encodeURIComponent(key.id), {
        name,
      });
      const data = await readJson(response);
      if (response.status === 200 && data) {
        closeRename();
        showMessage("Key renamed to \u201c" + data.name + "\u201d.", "success");
        await loadKeys();
      } else {
        if (response.status === 400 && data && data.error === "invalid_name") {
          el.renameInput.setAttribute("aria-invalid", "true");
          el.renameInput.focus();
        }
        showMessage(describeFailure(response.status, data, "Renaming the key"), "error");
      }
    } catch (error) {
      if (!(error instanceof SessionExpired)) {
        networkError();
      }
    } finally {
      el.renameSubmit.disabled = false;
    }
  }

  // ---- Start --------------------------------------------------------------------------

  async function start() {
    el.loginForm.addEventListener("submit", onLogin);
    el.createForm.addEventListener("submit", onCreate);
    el.logout.addEventListener("click", onLogout);
    el.copyToken.addEventListener("click", onCopy);
    el.dismissToken.addEventListener("click", onDismissToken);
    el.rotateForm.addEventListener("submit", onRotate);
    el.rotateCancel.addEventListener("click", closeRotate);
    el.renameForm.addEventListener("submit", onRename);
    el.renameCancel.addEventListener("click", closeRename);

    const current = session();
    if (!current) {
      clearSession();
      showLogin(false);
      return;
    }
    showKeys(current.email);
    // Confirms the session (and the email) with the server before listing keys.
    try {
      const response = await api("GET", "/api/security/users/me");
      const me = await readJson(response);
      if (response.ok && me && me.email) {
        el.sessionEmail.textContent = me.email;
      }
    } catch (error) {
      if (error instanceof SessionExpired) {
        return;
      }
    }
    await loadKeys();
  }

  start();
})();
