//! `suspense rebuild <read model>`

use suspense_read_models::ReadModel;

use super::{settings, Cli, CliError};

#[derive(clap::Args)]
pub struct Args {
    /// `item_register`, `root_cause_statistics`, or `all`.
    pub read_model: String,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let models: Vec<ReadModel> = if args.read_model == "all" {
        ReadModel::ALL.to_vec()
    } else {
        vec![ReadModel::parse(&args.read_model).ok_or_else(|| {
            suspense_domain::InvalidInput::new(
                "read_model",
                format!(
                    "'{}' is not one of item_register, root_cause_statistics, all",
                    args.read_model
                ),
            )
        })?]
    };
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    for model in models {
        let position = ledger
            .projector()
            .rebuild(model, |p| {
                eprintln!("{}: {} / {} events", model.name(), p.position, p.head)
            })
            .await?;
        outln!("{} rebuilt up to log position {position}", model.name())?;
    }
    ledger.close().await;
    Ok(())
}
