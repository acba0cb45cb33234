"""The ceiling: bare Flask + Jinja serving a post page of the same size from memory.

No database, no blocks, no sessions: what the hardware and the framework allow. The
benchmark reports ALLY's throughput as a fraction of this.

The page is ALLY's post page, markup for markup (head and social tags, the subscribe
banner's form, the header's cart drawer, the blocks, a product card, the footer), filled
from the demo's melatonin post in memory, so both sides send as many bytes
(``tests/test_load.py`` holds them within 10% of each other).
"""

from flask import Flask

from ally import demo

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ post.title }} – {{ site_name }}</title>
  <meta name="csrf-token" content="{{ token }}">
  <link rel="canonical" href="{{ url }}">
  <meta name="description" content="{{ post.intro }}">
  <meta property="og:site_name" content="{{ site_name }}">
  <meta property="og:title" content="{{ post.title }}">
  <meta property="og:url" content="{{ url }}">
  <meta property="og:description" content="{{ post.intro }}">
  <meta property="og:type" content="article">
  <meta property="article:published_time" content="{{ post.date }}">
  {% for category in categories %}<meta property="article:section" content="{{ category.name }}">{% endfor %}
  <script type="application/ld+json">{{ {"@context": "https://schema.org", "@type": "BlogPosting",
    "headline": post.title, "description": post.intro, "datePublished": post.date, "url": url,
    "mainEntityOfPage": url, "articleSection": categories|map(attribute="name")|list,
    "author": {"@type": "Organization", "name": site_name},
    "publisher": {"@type": "Organization", "name": site_name}}|tojson }}</script>
  <link rel="icon" href="/static/img/favicon.svg?v=095c6c4c0b72" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/site.css?v=f8a5ae5bf64a">
  <script src="/static/js/site.js?v=83e567ce6e54" defer></script>
  <script src="/static/js/cart.js?v=f8149db3a222" defer></script>
</head>
<body class="template-post">
  <a class="skip-link" href="#main">Skip to content</a>
  <div class="announcement">
    <details class="subscribe" id="subscribe">
      <summary>Click Here To Subscribe and avail of the <strong>15% off</strong> discount code</summary>
      <div class="subscribe-panel">
        <form class="subscribe-form" method="post" action="/subscribe/" data-subscribe-form novalidate>
          <input type="hidden" name="csrf_token" value="{{ token }}">
          <label for="subscribe-email">Email</label>
          <input id="subscribe-email" type="email" name="email" autocomplete="email" required maxlength="254" placeholder="you@example.com">
          <button type="submit">Subscribe</button>
          <p class="subscribe-message" role="status" aria-live="polite" data-subscribe-message></p>
        </form>
      </div>
    </details>
  </div>
  <div class="shipping-bar">Free Shipping With Orders Above $50</div>
  <header class="site-header">
    <div class="wrap header-inner">
      <a class="logo" href="/">ALLY <span>Essentials</span></a>
      <nav class="main-nav" aria-label="Main">
        <ul>
          {% for item in menu %}
          <li><a href="{{ item.url }}"{% if path.startswith(item.url) %} aria-current="page"{% endif %}>{{ item.title }}</a></li>
          {% endfor %}
        </ul>
      </nav>
      <form class="header-search" action="/search/" method="get" role="search">
        <label class="visually-hidden" for="header-q">Search the blog</label>
        <input id="header-q" type="search" name="q" placeholder="Search" maxlength="200">
      </form>
      <details class="cart-widget" id="cart" data-cart>
        <summary class="cart-toggle" aria-label="Cart: 0 items, $0.00">
          <span class="cart-label">Cart</span> <span class="cart-count" data-cart-count>0</span> <span class="cart-total" data-cart-total>$0.00</span>
        </summary>
        <aside class="cart-drawer" aria-label="My cart">
          <div class="cart-drawer-head">
            <h2>My cart</h2>
            <button type="button" class="cart-close" data-cart-close aria-label="Close cart">&times;</button>
          </div>
          <div data-cart-drawer-body>
            <div class="cart-contents" data-cart-contents data-item-count="0" data-total="0">
              <div class="cart-empty">
                <p class="cart-empty-title">Your cart is empty.</p>
                <p>Looks like you haven't made a choice yet.</p>
                <a class="button" href="/blog/">Keep reading</a>
              </div>
            </div>
          </div>
        </aside>
      </details>
    </div>
  </header>
  <main id="main" tabindex="-1">
<article class="post wrap narrow">
  <header class="post-header">
    <h1>{{ post.title }}</h1>
    <p class="post-meta"><time datetime="{{ post.date }}">Aug 12, 2024</time> | {% for category in categories %}<a href="/blog/category/{{ category.slug }}/" rel="category tag">{{ category.name }}</a>{% if not loop.last %}, {% endif %}{% endfor %}</p>
  </header>
  <div class="post-body">
{% for block in post.body %}{% if block.type == "heading" %}<h2 class="block-heading" id="h-{{ loop.index }}">{{ block.value.text }}</h2>
{% elif block.type == "paragraph" %}<p class="block-paragraph">{{ block.value|safe }}</p>
{% elif block.type == "bulleted_list" %}<ul class="block-list">{% for item in block.value %}
  <li>{{ item|safe }}</li>{% endfor %}
</ul>
{% elif block.type == "product_promo" %}{% set product = products[block.value.product] %}
<aside class="product-card" aria-label="{{ product.name }}">
  <div class="product-card-image" aria-hidden="true"><span>{{ product.name[:1] }}</span></div>
  <div class="product-card-body">
    <p class="product-card-brand">ALLY Essentials</p>
    <h3 class="product-card-title">{{ block.value.headline }}</h3>
    <p class="product-card-text">{{ block.value.text }}</p>
    <p class="product-card-price" data-price="{{ product.price_cents }}">${{ "%.2f"|format(product.price_cents / 100) }}</p>
    <form class="add-to-cart" method="post" action="/cart/add" data-add-to-cart>
      <input type="hidden" name="csrf_token" value="{{ token }}">
      <input type="hidden" name="id" value="1">
      <input type="hidden" name="quantity" value="1">
      <input type="hidden" name="return_to" value="{{ path }}">
      <button type="submit" class="button">{{ block.value.cta }}</button>
    </form>
  </div>
</aside>
{% endif %}{% endfor %}
  </div>
  <footer class="post-footer">
    <p>Filed under {% for category in categories %}<a href="/blog/category/{{ category.slug }}/">{{ category.name }}</a>{% if not loop.last %}, {% endif %}{% endfor %}</p>
  </footer>
</article>
  </main>
  <footer class="site-footer">
    <div class="wrap footer-inner">
      <p class="logo">ALLY <span>Essentials</span></p>
      <p>Supplements made for people in addiction recovery.</p>
      <p class="footer-links">
        {% for item in menu %}<a href="{{ item.url }}">{{ item.title }}</a>{% endfor %}
        <a href="/subscribe/">Subscribe</a>
      </p>
      <p class="small">These statements have not been evaluated by the Food and Drug Administration. Talk to your doctor before starting a supplement.</p>
    </div>
  </footer>
</body>
</html>"""

POST = demo.PAGES[2]
CATEGORIES = [c for c in demo.CATEGORIES if c["slug"] in POST["categories"]]
PRODUCTS = {product["id"]: product for product in demo.PRODUCTS}
MENU = [
    {"url": "/blog/", "title": "Blog"},
    {"url": "/products/", "title": "Shop"},
    {"url": "/about/", "title": "About"},
]
# The length of the signed token ALLY's forms carry.
TOKEN = "I" + "x" * 90

app = Flask(__name__)
# Compiled once, as Flask does for template files.
COMPILED = app.jinja_env.from_string(TEMPLATE)


def render(post: dict, products: dict, path: str) -> str:
    """The post page for ``post`` at ``path``, its promo blocks' products from ``products``
    (by the id the blocks name); the floor renders its database row through this too."""
    return COMPILED.render(
        post=post,
        categories=CATEGORIES,
        products=products,
        menu=MENU,
        site_name="ALLY Essentials",
        token=TOKEN,
        path=path,
        url=f"http://localhost{path}",
    )


@app.get("/post/")
def post():
    return render(POST, PRODUCTS, f"/blog/{POST['slug']}/")
