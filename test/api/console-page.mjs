import { startChromium } from '../helpers/chromium.mjs';

// Drives the web console the way an operator does: fills its forms, clicks its buttons,
// reads what it shows. Every outcome the tests care about is then checked on the daemon.

const q = JSON.stringify;

/** The console of daemon `d` in a fresh headless Chromium, once it has shown the node. */
export async function openConsole(t, d, { waitForNode = true } = {}) {
  const browser = await startChromium(t);
  const page = await browser.open(`${d.url}/`);
  if (waitForNode) await page.waitFor(`$("instance").textContent === "test-node"`);
  return consolePage(page);
}

export function consolePage(page) {
  const row = (c) => `#services tr[data-coordinate=${q(c)}]`;
  return {
    page,
    evaluate: (expr) => page.evaluate(expr),
    waitFor: (expr, o) => page.waitFor(expr, o),
    screenshot: () => page.screenshot(),
    text: (selector) => page.evaluate(`document.querySelector(${q(selector)})?.textContent ?? null`),
    click: (selector) => page.evaluate(`document.querySelector(${q(selector)}).click()`),
    /** Sets the named fields of a form, then submits it as its button would. */
    submit: (formId, values) =>
      page.evaluate(`(() => {
        const form = $(${q(formId)});
        for (const [name, value] of Object.entries(${q(values)})) form.elements[name].value = value;
        form.requestSubmit();
      })()`),
    /** A cell of a service's row (coordinate, state, pid, exit, command...), or null. */
    cell: (c, name) => page.evaluate(`document.querySelector(${q(`${row(c)} td.${name}`)})?.textContent ?? null`),
    /**
     * Clicks a service's action button (start, stop, restart, drain, logs, remove) as an
     * operator does: once it is enabled (an action in flight disables it until a refresh).
     */
    action: (c, action) =>
      page.waitFor(`(() => {
        const b = document.querySelector(${q(`${row(c)} button[data-action=${action}]`)});
        if (!b || b.disabled) return false;
        b.click();
        return true;
      })()`),
    /** Waits until the row shows `state`; resolves which of its buttons are enabled. */
    async rowIn(c, state) {
      await page.waitFor(`document.querySelector(${q(`${row(c)} td.state`)})?.textContent === ${q(state)}`);
      return page.evaluate(
        `[...document.querySelectorAll(${q(`${row(c)} button`)})].filter((b) => !b.disabled).map((b) => b.dataset.action)`,
      );
    },
    /** Answers the in-page confirmation (purge ticked or not); waits for it to open first. */
    async confirm(ok, { purge = false } = {}) {
      await page.waitFor(`$("confirm").open`);
      await page.evaluate(`$("confirm-purge").checked = ${purge}; $(${q(ok ? 'confirm-ok' : 'confirm-cancel')}).click()`);
    },
  };
}
