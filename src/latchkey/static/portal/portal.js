// Latchkey portal: light progressive enhancement. Every page is a plain HTML form without
// this file, except passkey enrolment and sign-in, which need WebAuthn. No inline script or
// style anywhere: the Content-Security-Policy forbids both.

import { creationOptions, credentialJSON, requestOptions } from "/static/shared/webauthn-json.js";

const $ = (selector, root = document) => root.querySelector(selector);

function say(message, isError = false) {
  const status = $("#status");
  if (!status) return;
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function postJSON(path, body, headers = {}) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || `request failed (${response.status})`);
  return data;
}

function cancelled(error) {
  return error && (error.name === "NotAllowedError" || error.name === "AbortError");
}

function ceremony(button, run) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("Waiting for your passkey…");
    try {
      const done = await run();
      say("Signed in.");
      window.location.assign(done.next || "/portal");
    } catch (error) {
      say(cancelled(error) ? "Cancelled: try again." : error.message, true);
      button.disabled = false;
    }
  });
}

function loginPage() {
  ceremony($("#passkey-sign-in"), async () => {
    const started = await postJSON("/portal/login/options", {});
    const credential = await navigator.credentials.get({ publicKey: requestOptions(started.options) });
    return postJSON("/portal/login/finish", {
      challengeId: started.challengeId,
      credential: credentialJSON(credential),
    });
  });
}

function enrolPage() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  // The link's secret stays out of the address bar (and out of screenshots and history).
  history.replaceState(null, "", window.location.pathname);
  if (!token) {
    say("This page needs the enrolment link printed by `latchkey admin create`.", true);
    $("#passkey-enrol").disabled = true;
    return;
  }
  ceremony($("#passkey-enrol"), async () => {
    const started = await postJSON("/portal/enrol/options", { token });
    const credential = await navigator.credentials.create({ publicKey: creationOptions(started.options) });
    return postJSON("/portal/enrol/finish", {
      token,
      challengeId: started.challengeId,
      credential: credentialJSON(credential),
    });
  });
}

// Destructive buttons ask first (the server acts on the plain form either way).
function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// Origins checked as they are typed, by the same rules the server applies on submit.
function originValidation() {
  const form = $("form[data-validate]");
  if (!form) return;
  const output = $("#origin-check");
  const csrf = $("meta[name=csrf-token]").content;
  let timer = null;
  let latest = 0;
  const check = async () => {
    const mine = ++latest;
    const body = {
      rpId: form.elements.rp_id.value,
      origins: form.elements.origins.value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    try {
      const result = await postJSON(form.dataset.validate, body, { "x-csrf-token": csrf });
      if (mine !== latest) return;
      output.replaceChildren(...result.problems.map((p) => {
        const item = document.createElement("li");
        item.textContent = p;
        return item;
      }));
      output.dataset.state = result.valid ? "valid" : "invalid";
      output.setAttribute("aria-label", result.valid ? "Origins are valid" : "Problems");
      $("#origin-ok").hidden = !result.valid;
    } catch (error) {
      if (mine === latest) output.replaceChildren();
    }
  };
  for (const name of ["rp_id", "origins"]) {
    form.elements[name].addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
  }
}

function palette() {
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  return {
    text: dark ? "#e8ebf2" : "#1b2231",
    grid: dark ? "#343d4f" : "#d5dae5",
    series: ["#4f7cff", "#1aa37a", "#e0533d", "#d99a00", "#9b59d0", "#2bb3c0", "#8a8f9c"],
  };
}

// Charts are drawn in the colours of the scheme in use, and again when it changes (a
// canvas does not follow the page's CSS).
function charts() {
  if (!window.Chart) return;
  drawCharts();
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
      window.Chart.getChart(canvas)?.destroy();
    }
    drawCharts();
  });
}

function drawCharts() {
  const colours = palette();
  window.Chart.defaults.color = colours.text;
  window.Chart.defaults.borderColor = colours.grid;
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const spec = JSON.parse(canvas.dataset.chart);
    const round = spec.type === "doughnut";
    spec.data.datasets.forEach((set, i) => {
      const colour = colours.series[i % colours.series.length];
      set.backgroundColor = round ? colours.series : colour;
      set.borderColor = round ? colours.grid : colour;
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: spec.data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: spec.data.datasets.length > 1 || round } },
        scales: round ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }
}

function start() {
  const page = $("[data-page]")?.dataset.page;
  if (page === "login") loginPage();
  if (page === "enrol") enrolPage();
  confirmations();
  originValidation();
  charts();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
