//! `suspense plan create|list|show|approve|evaluate`: remediation plans from the command line.
//! A plan is named by its id or by its reference.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::ValueEnum;
use suspense::{Actor, LoadedPlan, Suspense};
use suspense_domain::plan::{PlanAction, PlanId, PlanReference};
use suspense_domain::UserId;
use suspense_read_models::PlanEvaluation;

use super::{settings, Cli, CliError};
use crate::dto::{
    date, evaluation_csv, progress_name, EvaluationView, PlanDocument, PlanSummaryView, PlanView,
    TargetEvaluationView,
};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Draft a plan from a TOML file (docs/plans.md): its phases, targets and measures, all or
    /// nothing.
    Create {
        #[arg(long)]
        file: PathBuf,
        /// Recorded as the person who drafted it.
        #[arg(long = "as", default_value = "cli")]
        by: String,
    },
    /// Every plan, one line each.
    List,
    /// One plan as JSON.
    Show { plan: String },
    /// Approve a plan (someone other than its drafter).
    Approve {
        plan: String,
        #[arg(long = "as")]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Evaluate a phase: every target against its baseline, and whether each measure worked.
    Evaluate {
        plan: String,
        /// The phase (default: the one running, else the last ended).
        #[arg(long)]
        phase: Option<u32>,
        /// The date evaluated (default today, bank calendar).
        #[arg(long)]
        as_of: Option<String>,
        /// As the evaluation could be made at this recorded time (RFC 3339).
        #[arg(long)]
        as_known_at: Option<String>,
        /// Record the evaluation as signed by this person.
        #[arg(long)]
        record_as: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

/// A plan's id, from its id or its reference.
fn plan_id(text: &str) -> Result<PlanId, CliError> {
    match PlanId::parse(text) {
        Ok(id) => Ok(id),
        Err(_) => Ok(PlanId::for_reference(&PlanReference::parse(text)?)),
    }
}

fn actor(name: &str) -> Result<Actor, CliError> {
    Ok(Actor::new(UserId::parse(name)?).with_source("cli"))
}

async fn existing(ledger: &Suspense, text: &str) -> Result<LoadedPlan, CliError> {
    let id = plan_id(text)?;
    ledger
        .plan(id)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("no plan {text}")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Other(e.to_string()))
}

pub async fn run(cli: &Cli, command: &Command) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    let today = settings.calendar.local_date(Utc::now());
    let output = match command {
        Command::Create { file, by } => {
            let document: PlanDocument = super::toml_file(file)?;
            let (draft, then) = document.parse()?;
            let executed = ledger.draft_plan(&actor(by)?, draft, then).await?;
            let verb = if executed.events.is_empty() {
                "already drafted"
            } else {
                "drafted"
            };
            format!(
                "{verb} plan {} (version {})\n",
                executed.plan_id, executed.version
            )
        }
        Command::List => {
            let plans = ledger.plans().await?;
            let mut out = format!(
                "{:<36}  {:<24} {:<9} {:>6} {:>7} {:>8}  name\n",
                "id", "reference", "status", "phases", "targets", "measures"
            );
            for plan in &plans {
                let p = PlanSummaryView::from(plan);
                out.push_str(&format!(
                    "{:<36}  {:<24} {:<9} {:>6} {:>7} {:>8}  {}\n",
                    p.id, p.reference, p.status, p.phases, p.targets, p.measures, p.name
                ));
            }
            out
        }
        Command::Show { plan } => json(&PlanView::from(&existing(&ledger, plan).await?))?,
        Command::Approve { plan, by, note } => {
            let plan = existing(&ledger, plan).await?;
            let note = crate::dto::NoteBody { note: note.clone() }.parse()?;
            let executed = ledger
                .execute_plan(&actor(by)?, plan.plan_id, PlanAction::Approve { note })
                .await?;
            format!(
                "plan {} approved (version {})\n",
                executed.plan_id, executed.version
            )
        }
        Command::Evaluate {
            plan,
            phase,
            as_of,
            as_known_at,
            record_as,
            format,
        } => {
            let id = existing(&ledger, plan).await?.plan_id;
            let as_known_at = as_known_at
                .as_deref()
                .map(|at| {
                    DateTime::parse_from_rfc3339(at.trim())
                        .map(|at| at.with_timezone(&Utc))
                        .map_err(|_| {
                            suspense_domain::InvalidInput::new(
                                "as_known_at",
                                format!("'{at}' is not an RFC 3339 time"),
                            )
                        })
                })
                .transpose()?;
            let as_of = match (as_of.as_deref(), as_known_at) {
                (Some(d), _) => date("as_of", d)?,
                (None, Some(at)) => settings.calendar.local_date(at),
                (None, None) => today,
            };
            let evaluation = match (as_known_at, record_as) {
                (Some(at), None) => {
                    ledger
                        .evaluate_plan_as_known_at(id, *phase, as_of, at)
                        .await?
                }
                (Some(_), Some(_)) => {
                    return Err(CliError::Invalid(suspense_domain::InvalidInput::new(
                        "record_as",
                        "only an evaluation on the log as it stands now is recorded",
                    )))
                }
                (None, Some(by)) => {
                    ledger
                        .record_plan_evaluation(&actor(by)?, id, *phase, as_of)
                        .await?
                        .0
                }
                (None, None) => {
                    ledger.refresh().await?;
                    ledger.evaluate_plan(id, *phase, as_of).await?
                }
            };
            match format {
                Format::Json => json(&EvaluationView::new(id.to_string(), &evaluation))?,
                Format::Csv => evaluation_csv(&id.to_string(), &evaluation)
                    .map_err(|e| CliError::Other(e.to_string()))?,
                Format::Table => evaluation_table(&evaluation),
            }
        }
    };
    ledger.close().await;
    out!("{output}")
}

/// The evaluation as a manager reads it: targets with their figures and verdict, the trend,
/// and each measure's before and after.
pub fn evaluation_table(evaluation: &PlanEvaluation) -> String {
    let phase = &evaluation.phase;
    let mut out = format!(
        "phase {} \"{}\" ({}), {}, as of {}; baseline {}\n",
        phase.number,
        phase.name,
        phase.months,
        progress_name(evaluation.progress).replace('_', " "),
        evaluation.as_of,
        evaluation.baseline
    );
    out.push_str(&format!(
        "  {:<6} {:<30} {:<28} {:>10} {:>10} {:>10}  verdict\n",
        "target", "metric", "scope", "baseline", "target", "actual"
    ));
    let figure = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    for target in &evaluation.targets {
        let view = TargetEvaluationView::from(target);
        let scope: Vec<String> = [
            ("branch", &view.filter.branch),
            ("category", &view.filter.category),
            ("code", &view.filter.code),
            ("channel", &view.filter.channel),
        ]
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
        .collect();
        let scope = if scope.is_empty() {
            "plan scope".to_owned()
        } else {
            scope.join(" ")
        };
        out.push_str(&format!(
            "  {:<6} {:<30} {:<28} {:>10} {:>10} {:>10}  {}\n",
            view.target,
            view.metric,
            scope,
            figure(&view.baseline),
            format!(
                "{}{}",
                if view.comparison == "at_most" {
                    "≤"
                } else {
                    "≥"
                },
                figure(&view.target_value)
            ),
            figure(&view.actual),
            view.verdict.replace('_', " ")
        ));
        if view.trend.len() > 1 {
            let trend: Vec<String> = view
                .trend
                .iter()
                .map(|p| format!("{} {}", p.month, figure(&p.value)))
                .collect();
            out.push_str(&format!("         by month: {}\n", trend.join(", ")));
        }
    }
    if !evaluation.measures.is_empty() {
        out.push_str("  measures (items of their cause opened per window of whole months):\n");
    }
    for measure in &evaluation.measures {
        let cause = match &measure.code {
            Some(code) => format!("{}/{code}", measure.category.as_str()),
            None => measure.category.as_str().to_owned(),
        };
        let mut line = format!(
            "  {:<6} {} ({cause}): {}",
            measure.measure.to_string(),
            measure.title,
            measure.status.as_str().replace('_', " ")
        );
        if let Some(done) = measure.completed_on {
            line.push_str(&format!(" {done}"));
        }
        if let (Some(before), Some(after)) = (measure.before.months, measure.after.months) {
            line.push_str(&format!(
                "; before {before}: {}, after {after}: {}",
                measure.before.items_opened, measure.after.items_opened
            ));
        }
        if let Some(effect) = measure.effect {
            line.push_str(&format!(" → {}", effect.as_str().replace('_', " ")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
