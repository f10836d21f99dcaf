//! Status steps: each service version may refine the canonical phases into its own ordered
//! steps (intake check, publication, objection period, ...), each belonging to one phase,
//! with a public label, an expected duration and whether the applicant is told about it.
//! Phases without a step of the service get one default step named after the phase.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::application::Phase;
use super::catalogue::is_slug;
use super::lang::Localized;
use super::FieldError;
use crate::msg;

/// One step of a service's processing, as the catalogue defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusStep {
    /// Slug, unique within the service version.
    #[schema(example = "objection-period", max_length = 64)]
    pub key: String,
    /// The phase the step belongs to; moving to the step moves the application to it.
    pub phase: Phase,
    #[schema(value_type = crate::domain::lang::LocalizedName)]
    pub label: Localized,
    /// How long the step usually takes, in calendar days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 30, minimum = 0, maximum = 3650)]
    pub expected_days: Option<u32>,
    /// Whether the applicant sees this step (and the public tracking page shows it).
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

/// The label of a phase, for phases without a step of their own and for private steps.
pub fn phase_label(p: Phase) -> Localized {
    let (de, fr, it, en) = match p {
        Phase::Draft => ("Entwurf", "Brouillon", "Bozza", "Draft"),
        Phase::Submitted => ("Eingereicht", "Déposée", "Inoltrata", "Submitted"),
        Phase::InReview => ("In Bearbeitung", "En traitement", "In elaborazione", "In review"),
        Phase::ActionRequired => (
            "Ergänzung nötig",
            "Compléments requis",
            "Completamento richiesto",
            "Action required",
        ),
        Phase::Approved => ("Bewilligt", "Approuvée", "Approvata", "Approved"),
        Phase::Rejected => ("Abgelehnt", "Refusée", "Respinta", "Rejected"),
        Phase::Completed => ("Abgeschlossen", "Terminée", "Conclusa", "Completed"),
        Phase::Withdrawn => ("Zurückgezogen", "Retirée", "Ritirata", "Withdrawn"),
    };
    Localized {
        de: de.into(),
        fr: Some(fr.into()),
        it: Some(it.into()),
        en: Some(en.into()),
    }
}

/// The steps an application of this service goes through: the service's own steps, and a
/// default step for every phase the service does not refine, in phase order.
pub fn effective_steps(own: &[StatusStep]) -> Vec<StatusStep> {
    let mut out = Vec::with_capacity(own.len() + Phase::ALL.len());
    for p in Phase::ALL {
        let mine: Vec<&StatusStep> = own.iter().filter(|s| s.phase == p).collect();
        if mine.is_empty() || p == Phase::Draft {
            out.push(StatusStep {
                key: p.as_str().to_string(),
                phase: p,
                label: phase_label(p),
                expected_days: None,
                public: true,
            });
        } else {
            out.extend(mine.into_iter().cloned());
        }
    }
    out
}

/// The first step of a phase.
pub fn first_step(steps: &[StatusStep], phase: Phase) -> Option<&StatusStep> {
    steps.iter().find(|s| s.phase == phase)
}

pub fn step<'a>(steps: &'a [StatusStep], key: &str) -> Option<&'a StatusStep> {
    steps.iter().find(|s| s.key == key)
}

/// Checks a service's steps: unique slug keys, no step for the draft phase, a key named after
/// a phase only for a step of that phase, valid labels.
pub fn validate_steps(steps: &mut [StatusStep], p: &str, errors: &mut Vec<FieldError>) {
    if steps.len() > 50 {
        errors.push(FieldError::new(p, "too_long", msg!("at most 50 steps")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, s) in steps.iter_mut().enumerate() {
        if !is_slug(&s.key) {
            errors.push(FieldError::new(
                format!("{p}/{i}/key"),
                "pattern",
                msg!("a step key is a slug"),
            ));
        } else if !seen.insert(s.key.clone()) {
            errors.push(FieldError::new(
                format!("{p}/{i}/key"),
                "unique",
                msg!("step keys are unique within a service"),
            ));
        }
        if Phase::parse(&s.key).is_some_and(|named| named != s.phase) {
            errors.push(FieldError::new(
                format!("{p}/{i}/key"),
                "reserved",
                msg!("a key named after a phase is reserved for a step of that phase"),
            ));
        }
        if s.phase == Phase::Draft {
            errors.push(FieldError::new(
                format!("{p}/{i}/phase"),
                "not_allowed",
                msg!("drafts have no steps"),
            ));
        }
        if s.expected_days.is_some_and(|d| d > 3650) {
            errors.push(FieldError::new(
                format!("{p}/{i}/expected_days"),
                "maximum",
                msg!("at most 3650 days"),
            ));
        }
        s.label.validate(&format!("{p}/{i}/label"), 200, errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(key: &str, phase: Phase) -> StatusStep {
        StatusStep {
            key: key.into(),
            phase,
            label: Localized {
                de: key.into(),
                fr: None,
                it: None,
                en: None,
            },
            expected_days: Some(10),
            public: true,
        }
    }

    #[test]
    fn own_steps_replace_the_default_step_of_their_phase() {
        let own = vec![
            step("intake-check", Phase::Submitted),
            step("publication", Phase::InReview),
            step("objection-period", Phase::InReview),
        ];
        let all = effective_steps(&own);
        let keys: Vec<&str> = all.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "draft",
                "intake-check",
                "publication",
                "objection-period",
                "action_required",
                "approved",
                "rejected",
                "completed",
                "withdrawn"
            ]
        );
        assert_eq!(first_step(&all, Phase::InReview).unwrap().key, "publication");
        assert_eq!(effective_steps(&[]).len(), Phase::ALL.len());
    }

    #[test]
    fn steps_are_checked() {
        let mut steps = vec![
            step("a", Phase::Submitted),
            step("a", Phase::InReview),
            step("approved", Phase::Rejected),
            step("x", Phase::Draft),
            step("Bad Key", Phase::InReview),
        ];
        let mut errors = Vec::new();
        validate_steps(&mut steps, "/status_steps", &mut errors);
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/status_steps/1/key",
                "/status_steps/2/key",
                "/status_steps/3/phase",
                "/status_steps/4/key"
            ]
        );
    }
}
