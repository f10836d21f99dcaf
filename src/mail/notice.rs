//! Notices to applicants: the mail for a moment of an application's life (received, action
//! required, a new public step, a message from the department, the decision), in the
//! application's language, as plain text and HTML from the templates in `templates/mail/` and
//! the texts in `locales/mail.json` (minijinja). A notice carries the service, the reference,
//! the tracking code (on receipt) and a link to the frontend, never form data or message text.
use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use minijinja::{context, AutoEscape, Environment};

use crate::domain::lang::Lang;

/// A moment the applicant is told of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moment {
    Submitted,
    /// What is needed (the labels of documents asked for, how many fields), by when.
    ActionRequired {
        documents: Vec<String>,
        fields: usize,
        due: Option<NaiveDate>,
    },
    /// A new public step (its label).
    Step {
        step: String,
    },
    /// A message from the department.
    Message,
    /// The decision (the phase's label), with documents to download or not.
    Decided {
        step: String,
        documents: bool,
    },
}

impl Moment {
    /// Sent whatever the person chose: the receipt, a request for action, the decision.
    pub fn essential(&self) -> bool {
        matches!(
            self,
            Moment::Submitted | Moment::ActionRequired { .. } | Moment::Decided { .. }
        )
    }

    fn key(&self) -> &'static str {
        match self {
            Moment::Submitted => "submitted",
            Moment::ActionRequired { .. } => "action_required",
            Moment::Step { .. } => "step",
            Moment::Message => "message",
            Moment::Decided { .. } => "decided",
        }
    }
}

/// What a notice says of its application (nothing from its form).
pub struct Facts<'a> {
    pub lang: Lang,
    pub service: &'a str,
    pub department: &'a str,
    pub reference: Option<&'a str>,
    /// Given on receipt only.
    pub tracking_code: Option<&'a str>,
    /// The application in the frontend.
    pub link: String,
}

/// A rendered notice.
#[derive(Debug, Clone)]
pub struct Notice {
    pub subject: String,
    pub text: String,
    pub html: String,
}

static TEXTS: LazyLock<HashMap<String, HashMap<String, String>>> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../locales/mail.json")).unwrap_or_default());

/// Every text as a template named `{lang}/{key}`, compiled once with the notices' templates
/// (a text compiled on each use cost a parse per mail).
static TEXT_TEMPLATES: LazyLock<Vec<(String, &'static str)>> = LazyLock::new(|| {
    TEXTS
        .iter()
        .flat_map(|(lang, texts)| texts.iter().map(move |(k, v)| (format!("{lang}/{k}"), v.as_str())))
        .collect()
});

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // HTML is escaped in the HTML notice alone (the texts go into it as values, escaped there);
    // a broken template shows in the unit tests
    env.set_auto_escape_callback(|name| match name {
        "notice.html" => AutoEscape::Html,
        _ => AutoEscape::None,
    });
    let texts = TEXT_TEMPLATES.iter().map(|(name, source)| (name.as_str(), *source));
    for (name, source) in [
        ("notice.txt", include_str!("../../templates/mail/notice.txt")),
        ("notice.html", include_str!("../../templates/mail/notice.html")),
    ]
    .into_iter()
    .chain(texts)
    {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a mail template does not compile");
        }
    }
    env
});

fn day(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => d.format("%Y-%m-%d").to_string(),
        _ => d.format("%d.%m.%Y").to_string(),
    }
}

/// The notice of `moment` for the application `facts` describes; `optional_note` adds how to
/// turn such notices off (to the notices that are not essential).
pub fn render(moment: &Moment, facts: &Facts<'_>) -> Result<Notice, String> {
    let (code, texts) = [facts.lang.code(), "de"]
        .into_iter()
        .find_map(|code| TEXTS.get(code).map(|t| (code, t)))
        .ok_or("locales/mail.json has no German texts")?;
    let text = |k: &str| texts.get(k).map(String::as_str).unwrap_or_default();
    let reference = facts.reference.unwrap_or_default();
    // the text compiled at start-up; one that is not there (a key the locale lacks, or a text
    // that did not compile) is rendered from its source, which gives "" or the compile error
    let fill = |k: &str, ctx: minijinja::Value| {
        match TEMPLATES.get_template(&format!("{code}/{k}")) {
            Ok(tpl) => tpl.render(ctx),
            Err(_) => TEMPLATES.render_str(text(k), ctx),
        }
        .map_err(|e| format!("{k}: {e}"))
    };
    let key = moment.key();
    let step = match moment {
        Moment::Step { step } | Moment::Decided { step, .. } => step.as_str(),
        _ => "",
    };
    let subject = fill(&format!("{key}.subject"), context! { reference })?;
    let headline = fill(&format!("{key}.headline"), context! { reference, step })?;
    let mut details = Vec::new();
    match moment {
        Moment::ActionRequired { documents, fields, due } => {
            for label in documents {
                details.push(fill("action_required.document", context! { label })?);
            }
            if *fields > 0 {
                details.push(fill("action_required.fields", context! { count => fields })?);
            }
            if let Some(d) = due {
                details.push(fill("action_required.due", context! { due => day(*d, facts.lang) })?);
            }
        }
        Moment::Decided { documents: true, .. } => details.push(text("decided.documents").to_string()),
        _ => {}
    }
    let mut t: HashMap<&str, String> = [
        "greeting",
        "service",
        "reference",
        "tracking_code",
        "open",
        "closing",
        "footer",
    ]
    .into_iter()
    .map(|k| (k, text(k).to_string()))
    .collect();
    if !moment.essential() {
        t.insert("footer", format!("{} {}", text("footer"), text("footer_optional")));
    }
    let ctx = context! {
        t, subject, headline, details,
        lang => facts.lang.code(),
        service => facts.service,
        department => facts.department,
        reference => facts.reference,
        tracking_code => facts.tracking_code,
        link => facts.link,
    };
    let render = |name: &str| {
        TEMPLATES
            .get_template(name)
            .and_then(|tpl| tpl.render(&ctx))
            .map_err(|e| format!("{name}: {e}"))
    };
    Ok(Notice {
        subject: subject.clone(),
        text: render("notice.txt")?,
        html: render("notice.html")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(lang: Lang) -> Facts<'static> {
        Facts {
            lang,
            service: "Wohnsitzbestätigung <bestellen>",
            department: "Einwohnerdienste",
            reference: Some("THU-2026-7Q4KM2XD-J"),
            tracking_code: Some("AB12-CD34-EF56"),
            link: "https://portal.thun.ch/applications/1".into(),
        }
    }

    #[test]
    fn every_moment_renders_in_every_language_with_its_facts() {
        let moments = [
            Moment::Submitted,
            Moment::ActionRequired {
                documents: vec!["Mietvertrag".into()],
                fields: 2,
                due: NaiveDate::from_ymd_opt(2026, 12, 31),
            },
            Moment::Step {
                step: "In Prüfung".into(),
            },
            Moment::Message,
            Moment::Decided {
                step: "Bewilligt".into(),
                documents: true,
            },
        ];
        for lang in Lang::ALL {
            for m in &moments {
                let n = render(m, &facts(lang)).unwrap();
                assert!(
                    n.subject.contains("THU-2026-7Q4KM2XD-J"),
                    "{lang:?} {m:?}: {}",
                    n.subject
                );
                // HTML escapes the slashes of the link (`&#x2f;`), which browsers read back
                assert!(n.text.contains("https://portal.thun.ch/applications/1"));
                assert!(
                    n.html
                        .contains("href=\"https:&#x2f;&#x2f;portal.thun.ch&#x2f;applications&#x2f;1\""),
                    "{}",
                    n.html
                );
                for body in [&n.text, &n.html] {
                    assert!(body.contains("AB12-CD34-EF56"));
                    assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
                }
                assert!(n.text.contains("Wohnsitzbestätigung <bestellen>"));
                assert!(
                    n.html.contains("Wohnsitzbestätigung &lt;bestellen&gt;"),
                    "HTML is escaped"
                );
            }
        }
        let de = render(&moments[1], &facts(Lang::De)).unwrap();
        assert!(
            de.text.contains("Dokument: Mietvertrag") && de.text.contains("31.12.2026"),
            "{}",
            de.text
        );
        let fr = render(&moments[0], &facts(Lang::Fr)).unwrap();
        assert!(fr.subject.starts_with("Votre demande"));
        // only notices one may turn off say how
        let optional = render(&Moment::Message, &facts(Lang::De)).unwrap();
        assert!(optional.text.contains("abbestellen"));
        assert!(!render(&Moment::Submitted, &facts(Lang::De))
            .unwrap()
            .text
            .contains("abbestellen"));
    }

    #[test]
    fn the_texts_have_the_same_keys_in_every_language() {
        let de: std::collections::BTreeSet<&String> = TEXTS["de"].keys().collect();
        for lang in ["fr", "it", "en"] {
            let other: std::collections::BTreeSet<&String> = TEXTS[lang].keys().collect();
            assert_eq!(de, other, "{lang}");
        }
    }
}
