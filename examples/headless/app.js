// A front-end of ALLY built only on its Wagtail-v2-style API: no framework, no build step.
// Open index.html?api=http://127.0.0.1:8000 (the ALLY site must list this page's origin in
// ALLY_CORS_ORIGINS). It shows the blog listing and a post, promo cards included.
(function () {
  "use strict";
  const api = new URLSearchParams(location.search).get("api") || "http://127.0.0.1:8000";
  const app = document.getElementById("app");

  const el = (tag, props, ...children) => {
    const node = Object.assign(document.createElement(tag), props || {});
    node.append(...children);
    return node;
  };
  // Rich text from the API is sanitised by ALLY; it is still parsed, never executed.
  const richText = (tag, html) => {
    const node = document.createElement(tag);
    node.append(...new DOMParser().parseFromString(html, "text/html").body.childNodes);
    return node;
  };
  const money = (cents, currency) =>
    new Intl.NumberFormat("en-US", { style: "currency", currency }).format(cents / 100);
  const get = async (path) => {
    const response = await fetch(api + path);
    if (!response.ok) throw new Error((await response.json()).message);
    return response.json();
  };

  const BLOCKS = {
    heading: (v) => el(`h${v.level}`, { textContent: v.text }),
    paragraph: (v) => richText("p", v),
    bulleted_list: (v) => el("ul", {}, ...v.map((item) => richText("li", item))),
    numbered_list: (v) => el("ol", {}, ...v.map((item) => richText("li", item))),
    quote: (v) => el("blockquote", { textContent: v.text }),
    image: (v) => (v.rendition ? el("img", { src: v.rendition.full_url, alt: v.alt, width: v.rendition.width }) : ""),
    call_to_action: (v) => el("p", {}, el("a", { href: v.url, textContent: v.text })),
    product_promo: (v) => v.product
      ? el("aside", { className: "card" }, el("h3", { textContent: v.headline }),
          el("p", { className: "price", textContent: money(v.product.price, v.product.currency) }),
          el("a", { href: v.product.url || "#", textContent: v.cta || "Shop now" }))
      : "",
  };

  async function listing() {
    const data = await get("/api/v2/pages/?type=blog.BlogPage&fields=date,intro,categories&order=-date");
    app.replaceChildren(el("h2", { textContent: "Blog" }), el("ul", { className: "posts" },
      ...data.items.map((post) => el("li", {},
        el("a", { href: `#/post/${post.id}`, textContent: post.title }),
        el("p", { className: "meta", textContent:
          `${post.date} | ${post.categories.map((c) => c.name).join(", ")}` }),
        el("p", { textContent: post.intro })))));
  }

  async function post(id) {
    const page = await get(`/api/v2/pages/${id}/?rich_text_format=html`);
    app.replaceChildren(
      el("p", {}, el("a", { href: "#/", textContent: "← All posts" })),
      el("h2", { textContent: page.title }),
      el("p", { className: "meta", textContent: `${page.date} | ${page.categories.map((c) => c.name).join(", ")}` }),
      ...page.body.map((block) => (BLOCKS[block.type] || (() => ""))(block.value)));
  }

  async function route() {
    const match = location.hash.match(/^#\/post\/(\d+)$/);
    try {
      await (match ? post(match[1]) : listing());
    } catch (error) {
      app.replaceChildren(el("p", { className: "error", textContent: `Could not load: ${error.message}` }));
    }
  }
  window.addEventListener("hashchange", route);
  route();
})();
