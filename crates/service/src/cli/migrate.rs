//! `suspense migrate`

use super::{settings, Cli, CliError};

pub async fn run(cli: &Cli) -> Result<(), CliError> {
    let settings = settings(cli, None)?;
    let ledger = crate::app::open_ledger(&settings).await?;
    outln!("{} is migrated", ledger.log().location())?;
    ledger.close().await;
    Ok(())
}
