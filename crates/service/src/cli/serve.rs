//! `suspense serve`

use tokio::net::TcpListener;

use super::{settings, Cli, CliError};

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, env = "SUSPENSE_LISTEN")]
    pub listen: Option<String>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let settings = settings(cli, args.listen.clone())?;
    if settings.users.is_empty() {
        eprintln!("warning: no users configured; every API call will be refused (see `suspense users add`)");
    }
    // The database is opened (and migrated) before the address is announced, so whoever
    // waits for the line below finds a ready service.
    let ledger = std::sync::Arc::new(crate::app::open_ledger(&settings).await?);
    let listener = TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    // Scripts and tests read the bound address from this line; the service serves whether
    // or not anyone reads it.
    if let Err(err) = outln!("listening on http://{address}") {
        tracing::warn!(error = %err, %address, "the listening address could not be printed");
    }
    crate::app::serve_ledger(ledger, settings, listener)
        .await
        .map_err(|e| CliError::Other(e.to_string()))
}
