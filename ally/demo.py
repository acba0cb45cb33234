"""The demo site: the ALLY Essentials blog as ``../shared/seed/ally-blog.txt`` shows it.

Written in the import format and loaded through :mod:`ally.pages_io`, so the demo content
passes the same validation as everything an author writes.
"""

from typing import Any


def h(text: str, level: int = 2) -> dict[str, Any]:
    return {"type": "heading", "value": {"text": text, "level": level}}


def p(html: str) -> dict[str, Any]:
    return {"type": "paragraph", "value": html}


def promo(product_slug: str, headline: str, text: str) -> dict[str, Any]:
    # The product id is filled in by ``site_document`` once products exist.
    return {
        "type": "product_promo",
        "value": {
            "product": product_slug,
            "headline": headline,
            "text": text,
            "cta": "Add to cart",
        },
    }


CATEGORIES = [
    {
        "name": "Health Management",
        "slug": "health-management",
        "description": "Sleep, nutrition and everyday health during recovery.",
    },
    {
        "name": "Recovery",
        "slug": "recovery",
        "description": "Support and practical advice for every stage of addiction recovery.",
    },
]

PRODUCTS = [
    {
        "id": "melatonin",
        "name": "ALLY Essentials Melatonin Supplements",
        "slug": "melatonin",
        "price_cents": 2499,
        "active": True,
        "description": "Gentle, high-quality melatonin to support restful sleep in recovery.",
    },
    {
        "id": "probiotic",
        "name": "ALLY Essentials Probiotic Supplement",
        "slug": "probiotic",
        "price_cents": 2999,
        "active": True,
        "description": "A probiotic formulated to restore a healthy microbiome during recovery.",
    },
]

MELATONIN_PROMO = promo(
    "melatonin",
    "ALLY Essentials Melatonin Supplements",
    "Gentle, effective sleep support made for recovery.",
)
PROBIOTIC_PROMO = promo(
    "probiotic",
    "ALLY Essentials Probiotic Supplement",
    "Gut health support, formulated for recovery.",
)

MELATONIN_BODY = [
    p(
        "Sleep is a vital component of overall health, especially during addiction recovery. Unfortunately, many individuals in recovery struggle with insomnia and other sleep disturbances, which can hinder their progress in addiction recovery. In this blog, we’ll delve into the science behind melatonin, its benefits for sleep, and how it can play a crucial role in alleviating insomnia often experienced during recovery."
    ),
    h("What is Melatonin?"),
    p(
        "Melatonin is a hormone that your body naturally produces in response to darkness. It’s a key player in regulating your sleep-wake cycle, commonly known as the circadian rhythm. As the evening approaches and the environment darkens, melatonin levels in your body rise, signaling that it’s time to sleep. Conversely, when the sun rises, melatonin levels drop, helping you wake up and feel alert."
    ),
    h("The Science Behind Melatonin and Sleep"),
    p(
        "Melatonin’s primary role is to prepare your body for sleep. It reduces nerve activity in the brain, lowers dopamine levels (which are associated with wakefulness), and helps synchronize your internal clock with the day-night cycle. For individuals struggling with insomnia, especially those in addiction recovery, melatonin can be a natural way to reset sleep patterns and improve sleep quality."
    ),
    h("The Connection Between Recovery and Sleep"),
    p(
        "Recovery from addiction is a challenging process that requires physical, emotional, and mental resilience. However, one of the most common challenges during this journey is sleep disruption. Withdrawal symptoms, anxiety, stress, and even the body’s adaptation to sobriety can make it difficult to fall asleep or stay asleep. Unfortunately, poor sleep can exacerbate these challenges, leading to a vicious cycle where recovery is hindered by lack of rest."
    ),
    h("The Role of Melatonin in Addiction Recovery"),
    p(
        "For those in recovery, achieving a good night’s sleep is more than just a comfort—it’s a necessity. Melatonin supplementation can provide the extra support needed to overcome insomnia and establish a regular sleep pattern. By aligning your sleep-wake cycle with the natural rhythms of your body, melatonin helps you fall asleep faster, stay asleep longer, and wake up feeling refreshed. This restorative sleep is crucial for managing stress, improving mood, and enhancing cognitive function—all of which are essential for successful recovery."
    ),
    h("Introducing ALLY Essentials Melatonin Supplements"),
    p(
        "At ALLY Essentials, we recognize the unique sleep challenges that individuals in recovery face. Our melatonin supplements are crafted with this in mind, offering a gentle yet effective solution to support your sleep needs. Our supplements are formulated with high-quality melatonin to promote relaxation and help you achieve the deep, restorative sleep that’s so important for your recovery."
    ),
    MELATONIN_PROMO,
    h("Why Choose ALLY Essentials?"),
    {
        "type": "bulleted_list",
        "value": [
            "<b>Tailored for Recovery:</b> Our Melatonin Supplements are specifically designed to address the sleep challenges that often accompany addiction recovery.",
            "<b>High-Quality Ingredients:</b> We use only premium-grade melatonin to ensure safety, efficacy, and consistency in every capsule.",
            "<b>Support for Healing:</b> By promoting better sleep, ALLY Essentials Melatonin Supplements help support your body’s natural healing processes, making it easier to stay on track with your recovery goals.",
        ],
    },
    h("Conclusion: Invest in Your Sleep, Invest in Your Recovery"),
    p(
        "Sleep is a critical component of the healing process during addiction recovery. If you’re struggling with insomnia, melatonin could be the natural solution you’ve been searching for. With ALLY Essentials Melatonin Supplements, you can support your body’s natural sleep cycle, improve your overall well-being, and stay committed to your recovery journey. Prioritize your sleep and take a step closer to the healthy, fulfilling life you deserve."
    ),
]

PROBIOTIC_BODY = [
    p(
        "When it comes to addiction recovery, focusing on gut health is essential, and probiotic supplements can play a crucial role in this process. The connection between gut health and overall well-being is well-established, especially during recovery from substance abuse. The gut, often referred to as the “second brain,” directly impacts mood, immune function, and mental health, all of which are key to successful recovery."
    ),
    h("The Gut-Brain Connection and Probiotic Supplements"),
    p(
        "The gut and brain communicate through what is known as the gut-brain axis, a complex system involving hormones, nerves, and immune signals. Problems in the gut, such as an imbalanced microbiome, can negatively affect brain function, leading to mood disorders, anxiety, and stress—common challenges during addiction recovery."
    ),
    p(
        "Long-term substance use often disrupts this balance, depleting beneficial bacteria and damaging the gut lining. Incorporating a probiotic supplement during recovery can help restore this balance, improving digestion and reducing inflammation, which in turn benefits mental health and recovery outcomes."
    ),
    h("How Probiotic Supplements Support Recovery"),
    p(
        "The microbiome is not just about digestion—it also affects the production of neurotransmitters, such as serotonin, which regulate mood. Since addiction can deplete these neurotransmitters, restoring gut health with the help of probiotic supplements is essential for improving emotional stability and reducing cravings."
    ),
    p(
        "Additionally, a strong microbiome enhances the immune system, which is often weakened in individuals recovering from addiction. By supporting gut health with probiotics, you can boost your immune function, reduce inflammation, and promote better overall health, which is critical for maintaining long-term sobriety."
    ),
    h("Practical Tips for Supporting Gut Health with Probiotic Supplements"),
    {
        "type": "numbered_list",
        "value": [
            "<b>Add a Probiotic Supplement to Your Routine</b><br>Probiotics help restore the balance of healthy bacteria in your gut. You can find these live bacteria in fermented foods like yogurt and kimchi or take them as a probiotic supplement. The ALLY Essentials Probiotic Supplement is designed specifically to support gut health and aid recovery.",
            "<b>Eat Fiber-Rich Foods</b><br>Fiber feeds the good bacteria in your gut, helping them grow and thrive. Include foods like whole grains, fruits, vegetables, and legumes to boost your gut’s health naturally.",
            "<b>Limit Processed Foods and Sugars</b><br>Sugars and processed foods can disrupt your gut’s microbiome by encouraging the growth of harmful bacteria. Reducing your intake of these foods helps restore balance and supports the work of your probiotic supplement.",
            "<b>Stay Hydrated</b><br>Drinking enough water is essential for keeping your digestive system functioning properly. It also helps the beneficial bacteria from your probiotic supplement do their job more effectively.",
            "<b>Incorporate Prebiotics</b><br>Prebiotics, found in foods like garlic, onions, and oats, feed healthy bacteria and enhance the effects of your probiotic supplement. Prebiotics help probiotics thrive and maintain gut balance.",
        ],
    },
    h("ALLY Essentials Probiotic Supplement: Gut Health Support for Recovery"),
    p(
        "At The ALLY Essentials, we recognize the importance of gut health in addiction recovery. Our probiotic supplement is specifically formulated to restore a healthy microbiome, supporting digestion, boosting the immune system, and improving mood. By incorporating our probiotic supplement into your recovery plan, you can strengthen your gut and enhance both physical and mental well-being."
    ),
    PROBIOTIC_PROMO,
    p(
        "Gut health plays a critical role in addiction recovery, and probiotic supplements are a powerful tool in restoring balance. Supporting your gut’s microbiome can lead to better emotional stability, a stronger immune system, and improved overall health—key elements for long-term success in sobriety. Start your journey to better health today with the ALLY Essentials Probiotic Supplement."
    ),
]

PAGES = [
    {
        "type": "home.HomePage",
        "parent": None,
        "title": "Supplements for every step of recovery",
        "slug": "home",
        "live": True,
        "seo_title": "ALLY Essentials",
        "intro": "Science-backed supplements and honest advice for people in addiction recovery.",
        "body": [],
    },
    {
        "type": "blog.BlogIndexPage",
        "parent": "/",
        "title": "Blog",
        "slug": "blog",
        "live": True,
        "show_in_menus": True,
        "intro": "Sleep, gut health and everyday wellbeing in recovery, from the ALLY Essentials team.",
    },
    {
        "type": "blog.BlogPage",
        "parent": "/blog/",
        "title": "Sleep Tight, Recover Tight: The Role of Melatonin in Addiction Recovery",
        "slug": "sleep-tight-recover-tight-melatonin-addiction-recovery",
        "live": True,
        "date": "2024-08-12",
        "categories": ["health-management", "recovery"],
        "intro": "How melatonin supports healthy sleep, and why sleep matters so much in addiction recovery.",
        "body": MELATONIN_BODY,
    },
    {
        "type": "blog.BlogPage",
        "parent": "/blog/",
        "title": "Gut Health in Recovery: How Probiotic Supplements Can Help",
        "slug": "gut-health-recovery-probiotic-supplements",
        "live": True,
        "date": "2024-08-05",
        "categories": ["health-management"],
        "intro": "The gut-brain connection, and practical tips for supporting gut health with probiotics.",
        "body": PROBIOTIC_BODY,
    },
    {
        "type": "pages.StandardPage",
        "parent": "/",
        "title": "Shop",
        "slug": "products",
        "live": True,
        "show_in_menus": True,
        "intro": "Supplements made for people in recovery.",
        "body": [],
    },
    {
        "type": "shop.PromoPage",
        "parent": "/products/",
        "title": "Melatonin Supplements",
        "slug": "melatonin",
        "live": True,
        "product": "melatonin",
        "intro": "Restful sleep, gently supported.",
        "body": [
            p(
                'Made for the sleep challenges of recovery: high-quality melatonin to help you fall asleep faster and wake up refreshed. Read <a href="/blog/sleep-tight-recover-tight-melatonin-addiction-recovery/">the role of melatonin in addiction recovery</a>.'
            )
        ],
    },
    {
        "type": "shop.PromoPage",
        "parent": "/products/",
        "title": "Probiotic Supplement",
        "slug": "probiotic",
        "live": True,
        "product": "probiotic",
        "intro": "A healthy gut for a steadier recovery.",
        "body": [
            p(
                'Formulated to restore a healthy microbiome, support digestion and boost the immune system. Read <a href="/blog/gut-health-recovery-probiotic-supplements/">how probiotics support recovery</a>.'
            )
        ],
    },
    {
        "type": "pages.StandardPage",
        "parent": "/",
        "title": "About",
        "slug": "about",
        "live": True,
        "show_in_menus": True,
        "intro": "Why ALLY Essentials exists.",
        "body": [
            p(
                "ALLY Essentials makes supplements for people in addiction recovery: sleep, gut health and everyday wellbeing, with the care recovery deserves."
            )
        ],
    },
]


def site_document(product_ids: dict[str, int]) -> dict[str, Any]:
    """The demo site in the import format, with product slugs replaced by ``product_ids``."""

    def resolve(block: dict) -> dict:
        if block["type"] != "product_promo":
            return block
        return {
            **block,
            "value": {**block["value"], "product": product_ids[block["value"]["product"]]},
        }

    pages = []
    for page in PAGES:
        page = {**page, "body": [resolve(b) for b in page.get("body", [])]}
        if "product" in page:
            page["product"] = product_ids[page["product"]]
        pages.append(page)
    return {"categories": CATEGORIES, "pages": pages}
