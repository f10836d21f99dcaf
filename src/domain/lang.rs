//! Languages and translated texts.
use crate::msg;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The four languages guichet serves; German is the reference language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    De,
    Fr,
    It,
    En,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::De, Lang::Fr, Lang::It, Lang::En];

    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "fr" => Some(Lang::Fr),
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Picks the best of our languages for an `Accept-Language` header (RFC 9110 §12.5.4):
    /// highest q first, then header order; `de` when nothing matches.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::De };
        let mut best: Option<(f32, usize, Lang)> = None;
        for (pos, part) in header.split(',').enumerate().take(32) {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let mut q = 1.0f32;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            if q <= 0.0 {
                continue;
            }
            let primary = tag.split('-').next().unwrap_or("");
            let lang = if primary == "*" {
                Some(Lang::De)
            } else {
                Lang::parse(primary)
            };
            if let Some(lang) = lang {
                let better = match best {
                    None => true,
                    Some((bq, bpos, _)) => q > bq || (q == bq && pos < bpos),
                };
                if better {
                    best = Some((q, pos, lang));
                }
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(Lang::De)
    }
}

/// A text in up to four languages; German is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"de": "Wohnsitzbestätigung", "fr": "Attestation de domicile"}))]
pub struct Localized {
    #[schema(max_length = 20000)]
    pub de: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub fr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub it: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub en: Option<String>,
}

impl Localized {
    /// The text in `lang`, or German when it is missing; also says which language it is.
    pub fn get(&self, lang: Lang) -> (&str, Lang) {
        let t = match lang {
            Lang::De => None,
            Lang::Fr => self.fr.as_deref(),
            Lang::It => self.it.as_deref(),
            Lang::En => self.en.as_deref(),
        };
        match t {
            Some(t) => (t, lang),
            None => (&self.de, Lang::De),
        }
    }

    pub fn text(&self, lang: Lang) -> &str {
        self.get(lang).0
    }

    pub fn has(&self, lang: Lang) -> bool {
        self.get(lang).1 == lang
    }

    /// Trims every text, turns empty translations into missing ones and checks lengths.
    pub fn validate(&mut self, pointer: &str, max: usize, errors: &mut Vec<crate::domain::FieldError>) {
        use crate::domain::FieldError;
        self.de = self.de.trim().to_string();
        if self.de.is_empty() {
            errors.push(FieldError::new(
                format!("{pointer}/de"),
                "required",
                msg!("the German text is required"),
            ));
        }
        for (code, t) in [("fr", &mut self.fr), ("it", &mut self.it), ("en", &mut self.en)] {
            if let Some(s) = t {
                let trimmed = s.trim();
                if trimmed.is_empty() {
                    *t = None;
                } else {
                    *s = trimmed.to_string();
                }
            }
            if t.as_ref().is_some_and(|s| s.chars().count() > max) {
                errors.push(FieldError::new(
                    format!("{pointer}/{code}"),
                    "too_long",
                    msg!("at most {max} characters", max = max),
                ));
            }
        }
        if self.de.chars().count() > max {
            errors.push(FieldError::new(
                format!("{pointer}/de"),
                "too_long",
                msg!("at most {max} characters", max = max),
            ));
        }
    }
}

/// The schemas of [`Localized`] texts with their bound, as the OpenAPI document states them:
/// one per length the catalogue checks (`Localized::validate`'s `max`), so that each field says
/// exactly what it takes. They describe; `Localized` is what is read and written.
macro_rules! bounded_localized {
    ($($(#[$doc:meta])* $name:ident = $max:tt;)*) => {$(
        $(#[$doc])*
        #[derive(Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        #[schema(example = json!({"de": "Wohnsitzbestätigung", "fr": "Attestation de domicile"}))]
        #[allow(dead_code)]
        pub struct $name {
            #[schema(max_length = $max)]
            de: String,
            #[serde(default)]
            #[schema(max_length = $max)]
            fr: Option<String>,
            #[serde(default)]
            #[schema(max_length = $max)]
            it: Option<String>,
            #[serde(default)]
            #[schema(max_length = $max)]
            en: Option<String>,
        }
    )*};
}

bounded_localized! {
    /// A name or label in up to four languages (German required): at most 200 characters each.
    LocalizedName = 200;
    /// A line (a required document) in up to four languages: at most 500 characters each.
    LocalizedLine = 500;
    /// A note in up to four languages: at most 1,000 characters each.
    LocalizedNote = 1000;
    /// A summary in up to four languages: at most 2,000 characters each.
    LocalizedSummary = 2000;
    /// A description in up to four languages: at most 20,000 characters each.
    LocalizedDescription = 20000;
}

/// How translatable texts are rendered: one language, or every translation (`?lang=all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    One(Lang),
    All,
}

impl Render {
    pub const ALL: [Render; 5] = [
        Render::One(Lang::De),
        Render::One(Lang::Fr),
        Render::One(Lang::It),
        Render::One(Lang::En),
        Render::All,
    ];

    pub fn index(self) -> usize {
        match self {
            Render::One(l) => l.index(),
            Render::All => 4,
        }
    }

    /// The language used for sorting and searching.
    pub fn lang(self) -> Lang {
        match self {
            Render::One(l) => l,
            Render::All => Lang::De,
        }
    }
}

/// Language of an answer: one of the four, or `all` for every translation (editors).
// (declares the values of `?lang=` in the OpenAPI document)
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LangParam {
    De,
    Fr,
    It,
    En,
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values_and_falls_back_to_german() {
        assert_eq!(Lang::negotiate(None), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr-CH, fr;q=0.9, en;q=0.8")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("es, en;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(Some("it;q=0.2, en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(Some("ja")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr;q=0")), Lang::De);
        assert_eq!(Lang::negotiate(Some(";;;,q=,=")), Lang::De);
    }

    #[test]
    fn missing_translation_falls_back_to_german() {
        let l = Localized {
            de: "Hund".into(),
            fr: Some("Chien".into()),
            it: None,
            en: None,
        };
        assert_eq!(l.get(Lang::Fr), ("Chien", Lang::Fr));
        assert_eq!(l.get(Lang::It), ("Hund", Lang::De));
    }
}
