//! HTTP handlers, one module per area.

pub mod audit;
pub mod clearings;
pub mod commands;
pub mod incidents;
pub mod items;
pub mod ops;
pub mod organisation;
pub mod plans;
pub mod policy;
pub mod reports;
pub mod subscriptions;

use suspense_domain::ItemId;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn item_id(path: &str) -> Result<ItemId, ApiError> {
    ItemId::parse(path).map_err(|_| ApiError::not_found(format!("no item {path}")))
}

/// Brings the read models up to date first when the caller asks (`fresh=true`: read your own
/// writes), on the replica too when reports read one.
pub(crate) async fn refresh_if(state: &AppState, fresh: bool) -> Result<(), ApiError> {
    if fresh {
        state.ledger.refresh().await?;
    }
    Ok(())
}
