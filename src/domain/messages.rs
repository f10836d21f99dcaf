//! Messages to people (problem details, field errors), in the language of the answer.
//!
//! A message is written in English where it is raised, with `{name}` placeholders for its
//! arguments: `msg!("No service '{slug}'.", slug = s)`. The English text is the key of its
//! translations in `locales/messages.json` (German, French, Italian), so the code reads as what
//! the caller is told, and the language is chosen when the answer is rendered, not where the
//! error is raised. A test reads every `msg!` in `src/` and fails when one has no translation
//! or a translation lacks a placeholder, and when the catalogue keeps an entry no code uses.
use std::collections::HashMap;
use std::sync::LazyLock;

use super::lang::Lang;

/// A message and its arguments, rendered in a language when the answer is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    template: &'static str,
    args: Vec<(&'static str, String)>,
}

/// `msg!(text, name = value, ...)`: a [`Msg`]. Use it for every text a caller reads.
#[macro_export]
macro_rules! msg {
    ($t:literal) => {
        $crate::domain::messages::Msg::new($t)
    };
    ($t:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::domain::messages::Msg::new($t)$(.with(stringify!($k), $v))+
    };
}

type Catalogue = HashMap<String, [String; 3]>;

/// German, French and Italian for each English text.
static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let raw: HashMap<String, HashMap<String, String>> =
        serde_json::from_str(include_str!("../../locales/messages.json")).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(en, t)| {
            let get = |l: &str| t.get(l).cloned();
            Some((en, [get("de")?, get("fr")?, get("it")?]))
        })
        .collect()
});

impl Msg {
    pub const fn new(template: &'static str) -> Msg {
        Msg {
            template,
            args: Vec::new(),
        }
    }

    /// The message with `{name}` standing for `value` (a name, a number, a code; never a value
    /// the caller submitted that may be personal).
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Msg {
        self.args.push((name, value.to_string()));
        self
    }

    /// The English text, as written in the code (its key in the catalogue).
    pub fn template(&self) -> &'static str {
        self.template
    }

    /// The message in `lang` (English where a translation is missing, which a test prevents).
    pub fn render(&self, lang: Lang) -> String {
        let text = match lang {
            Lang::En => self.template,
            other => CATALOGUE
                .get(self.template)
                .map(|t| t[other.index()].as_str())
                .unwrap_or(self.template),
        };
        let mut out = text.to_string();
        for (name, value) in &self.args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// In English (logs, the command line).
impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders of a text, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        out.sort();
        out
    }

    /// The text of every `msg!` in `src/`, unescaped.
    fn messages_in_code() -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let code = std::fs::read_to_string(&path).unwrap();
                    for piece in code.split(concat!("msg", "!(")).skip(1) {
                        let piece = piece.trim_start();
                        let Some(body) = piece.strip_prefix('"') else { continue };
                        let mut text = String::new();
                        let mut chars = body.chars();
                        while let Some(c) = chars.next() {
                            match c {
                                '"' => break,
                                '\\' => match chars.next() {
                                    Some('n') => text.push('\n'),
                                    Some('\n') => {
                                        // a line continuation: skip the next line's indentation
                                        let rest: String = chars.clone().collect();
                                        let skipped = rest.len() - rest.trim_start().len();
                                        for _ in 0..skipped {
                                            chars.next();
                                        }
                                    }
                                    Some(other) => text.push(other),
                                    None => {}
                                },
                                c => text.push(c),
                            }
                        }
                        found.push((path.display().to_string(), text));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_message_is_translated_with_its_placeholders() {
        let code = messages_in_code();
        assert!(code.len() > 100, "the scan finds the messages ({})", code.len());
        let mut missing = Vec::new();
        for (file, en) in &code {
            match CATALOGUE.get(en) {
                None => missing.push(format!("{file}: {en:?}")),
                Some(t) => {
                    for (l, text) in ["de", "fr", "it"].iter().zip(t) {
                        assert_eq!(placeholders(text), placeholders(en), "{l} of {en:?}: {text:?}");
                        assert!(!text.trim().is_empty(), "{l} of {en:?}");
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "no translation in locales/messages.json for:\n{}",
            missing.join("\n")
        );
        let raw: HashMap<String, serde_json::Value> =
            serde_json::from_str(include_str!("../../locales/messages.json")).unwrap();
        assert_eq!(raw.len(), CATALOGUE.len(), "every entry has de, fr and it");
        let unused: Vec<&String> = raw.keys().filter(|k| !code.iter().any(|(_, en)| en == *k)).collect();
        assert!(unused.is_empty(), "entries no code uses: {unused:?}");
    }

    #[test]
    fn a_message_renders_in_each_language_with_its_arguments() {
        let m = msg!("No service '{slug}'.", slug = "hundetaxe");
        assert_eq!(m.render(Lang::En), "No service 'hundetaxe'.");
        for l in [Lang::De, Lang::Fr, Lang::It] {
            let text = m.render(l);
            assert!(
                text.contains("hundetaxe") && text != m.render(Lang::En),
                "{l:?}: {text}"
            );
        }
    }
}
