//! The console's static files, compiled into the binary (a bank's intranet reaches nothing
//! else) and served under names that carry a hash of their content, so a browser may keep
//! them for a year and still never runs an old script against a new page.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// The name pages know it by.
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/console.js"),
    },
    // Apache ECharts, vendored from its npm package with its licence (assets/vendor/echarts).
    Asset {
        name: "echarts.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/vendor/echarts/echarts.common.min.js"),
    },
    Asset {
        name: "echarts-license.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/vendor/echarts/LICENSE"),
    },
];

/// Each file with the name it is served under: `console.<hash>.css`.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            let hash = hex::encode(&Sha256::digest(asset.bytes)[..6]);
            let served = match asset.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", asset.name),
            };
            (served, asset)
        })
        .collect()
});

/// The path a page links `name` with.
pub fn url(name: &str) -> String {
    HASHED
        .iter()
        .find(|(_, asset)| asset.name == name)
        .map(|(served, _)| format!("/console/assets/{served}"))
        .unwrap_or_default()
}

/// `GET /console/assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match HASHED.iter().find(|(served, _)| *served == name) {
        Some((_, asset)) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_served_under_its_hashed_name() {
        for asset in FILES {
            let path = url(asset.name);
            assert!(path.starts_with("/console/assets/"), "{path}");
            assert_ne!(path, format!("/console/assets/{}", asset.name));
        }
        assert_eq!(url("missing.js"), "");
    }
}
