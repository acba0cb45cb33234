// The cart drawer over the Ajax Cart API (/cart.js, /cart/*.js). Without this script every
// cart form still works as a plain POST; with it, the header and drawer update in place.
(function () {
  "use strict";
  const widget = document.querySelector("[data-cart]");
  if (!widget) return;
  const drawerBody = widget.querySelector("[data-cart-drawer-body]");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  function money(cents, currency) {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD" })
      .format(cents / 100);
  }

  async function call(url, body) {
    const response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": csrfToken },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.description || data.message || "The cart could not be updated.");
    return data;
  }

  function render(cart) {
    const count = cart.item_count;
    const total = money(cart.total_price, cart.currency);
    widget.querySelector("[data-cart-count]").textContent = count;
    widget.querySelector("[data-cart-total]").textContent = total;
    widget.querySelector("summary").setAttribute(
      "aria-label", `Cart: ${count} item${count === 1 ? "" : "s"}, ${total}`);
    if (cart.sections && cart.sections["cart-drawer"] !== undefined) {
      drawerBody.innerHTML = cart.sections["cart-drawer"];
    }
  }

  function showError(message) {
    let notice = drawerBody.querySelector("[data-cart-error]");
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "cart-notice cart-error";
      notice.setAttribute("role", "alert");
      notice.dataset.cartError = "";
      drawerBody.prepend(notice);
    }
    notice.textContent = message;
  }

  const refresh = () => call("/cart.js?sections=cart-drawer").then(render);

  async function submit(form) {
    const fields = new FormData(form);
    if (form.matches("[data-add-to-cart]")) {
      await call("/cart/add.js", { id: Number(fields.get("id")), quantity: Number(fields.get("quantity")) });
      await refresh();
      widget.open = true;
    } else if (form.matches("[data-cart-change]")) {
      render(await call("/cart/change.js", {
        line: Number(fields.get("line")), quantity: Number(fields.get("quantity")),
        sections: ["cart-drawer"] }));
    } else if (form.matches("[data-cart-discount]")) {
      render(await call("/cart/update.js", { discount: fields.get("discount") || "", sections: ["cart-drawer"] }));
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-add-to-cart], [data-cart-change], [data-cart-discount]")) return;
    if (form.closest(".cart-page")) return; // the /cart/ page reloads, which is what it shows
    event.preventDefault();
    submit(form).catch((error) => { widget.open = true; showError(error.message); });
  });
})();
