//! The API's description (OpenAPI 3.1), derived from the wire types of `dto` and the
//! handlers' annotations, so that it states what the service takes and answers and cannot
//! drift from it. Served at `/openapi.json`.
//!
//! A field of a request body names its wire schema (`wire`), which is built from the rule the
//! domain parses the value with; the commands on one item and on one plan, served from tables,
//! are described from the same tables (`routes::commands`, `routes::plans`).

pub mod responses;
pub mod wire;

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;
use crate::routes::commands::Described as ItemCommands;
use crate::routes::plans::Described as PlanCommands;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "suspense",
        version = "1",
        description = "Track bank suspense items from booking to clearing. See docs/api.md."
    ),
    paths(
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::items::open,
        routes::items::list,
        routes::items::show,
        routes::items::events,
        routes::reports::root_causes,
        routes::reports::customers,
        routes::reports::aging,
        routes::reports::open_balance,
        routes::reports::record_volume,
        routes::reports::accountability,
        routes::reports::counterparties,
        routes::audit::export,
        routes::plans::create,
        routes::plans::list,
        routes::plans::show,
        routes::plans::history,
        routes::plans::evaluation,
        routes::plans::record_evaluation,
        routes::policy::show,
        routes::policy::publish,
        routes::policy::sweep,
        routes::policy::watch_list,
        routes::policy::provisioning,
        routes::organisation::show,
        routes::organisation::publish,
        routes::clearings::allocate,
        routes::incidents::list,
        routes::incidents::open,
        routes::incidents::show,
        routes::incidents::link,
        routes::incidents::unlink,
        routes::incidents::resolve,
        routes::incidents::suggestions,
        routes::incidents::share,
        routes::subscriptions::list,
        routes::subscriptions::create,
        routes::subscriptions::remove,
        routes::subscriptions::resume,
    ),
    // The schemas only query parameters name (those of bodies come with the bodies).
    components(schemas(
        responses::ErrorBody,
        wire::ReportFormat,
        wire::Dimensions,
        wire::ItemStatus,
        wire::PeriodKind,
        wire::BranchCode,
        wire::RootCauseCategory,
        wire::TeamId,
        wire::UserId,
        wire::Currency,
        wire::SubscriptionName,
    )),
    modifiers(&Security, &ItemCommands, &PlanCommands),
    security(("bearer" = []))
)]
struct ApiDoc;

/// Bearer tokens: from the configuration, or the identity provider's access tokens.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A request body's schema as a table of routes names it: the schema and the ones it uses,
/// and whether a body must be sent.
#[derive(Clone, Copy)]
pub struct BodySchema {
    name: fn() -> std::borrow::Cow<'static, str>,
    schema: fn() -> RefOr<Schema>,
    nested: fn(&mut Vec<(String, RefOr<Schema>)>),
    required: bool,
}

impl BodySchema {
    /// A body of `T`, required.
    pub const fn of<T: ToSchema>() -> Self {
        Self {
            name: T::name,
            schema: T::schema,
            nested: T::schemas,
            required: true,
        }
    }

    /// A body of `T` that may be left out (the command reads it with `json_or_default`).
    pub const fn optional<T: ToSchema>() -> Self {
        Self {
            required: false,
            ..Self::of::<T>()
        }
    }

    /// Adds the schema (and those it refers to) to `openapi`'s components; answers a
    /// reference to it.
    pub fn register(&self, openapi: &mut utoipa::openapi::OpenApi) -> RefOr<Schema> {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut schemas = vec![((self.name)().into_owned(), (self.schema)())];
        (self.nested)(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name((self.name)()))
    }
}

/// The root-cause report: per period, or (with `by`) summed over the dimensions asked for.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum RootCauseAnswer {
    Periods(crate::dto::RootCauseReportView),
    Summary(crate::dto::CauseSummaryView),
}

/// The document as served.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// A command served from a table: `POST` with a JSON body, answering `answer` under `ok`.
pub struct TableCommand<'a> {
    pub tag: &'a str,
    pub summary: &'a str,
    pub description: String,
    /// The path's parameters, by name, with their schema.
    pub path_params: Vec<(&'a str, RefOr<Schema>)>,
    /// The request headers (`responses::Idempotency`, and `responses::IfMatch` on an item).
    pub headers: Vec<utoipa::openapi::path::Parameter>,
    pub body: BodySchema,
    pub answer: RefOr<Schema>,
    /// The success statuses and what each means.
    pub ok: Vec<(u16, &'a str)>,
}

impl TableCommand<'_> {
    /// Adds the operation at `path` to `openapi`.
    pub fn add_to(self, openapi: &mut utoipa::openapi::OpenApi, path: String) {
        use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::response::ResponseBuilder;
        use utoipa::openapi::{ContentBuilder, Required};
        use utoipa::IntoResponses;

        let json = |schema: RefOr<Schema>| ContentBuilder::new().schema(Some(schema)).build();
        let mut operation = OperationBuilder::new()
            .summary(Some(self.summary))
            .description(Some(self.description))
            .tag(self.tag)
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json(self.body.register(openapi)))
                    .required(Some(if self.body.required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .build(),
            ));
        for (name, schema) in self.path_params {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(schema)),
            );
        }
        for header in self.headers {
            operation = operation.parameter(header);
        }
        for (status, description) in self.ok {
            operation = operation.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", json(self.answer.clone())),
            );
        }
        for (status, response) in responses::WriteRefusals::responses() {
            operation = operation.response(status, response);
        }
        openapi
            .paths
            .add_path_operation(path, vec![HttpMethod::Post], operation.build());
    }
}

/// "Roles: operator, supervisor." of a route.
pub fn roles(roles: &[crate::auth::Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    format!("Roles: {}.", names.join(", "))
}

/// The schema of `T` as a reference, registered in `openapi`'s components.
pub fn schema_ref<T: ToSchema>(openapi: &mut utoipa::openapi::OpenApi) -> RefOr<Schema> {
    BodySchema::of::<T>().register(openapi)
}
