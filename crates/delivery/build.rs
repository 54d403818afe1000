//! `sqlx::migrate!` embeds the migrations when the crate compiles, but cargo does not know it
//! read them: without this, a new or edited migration is left out of a build that finds the
//! crate's sources unchanged (sqlx's documented remedy).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
