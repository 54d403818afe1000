//! Every text of the console in Simplified Chinese (the default) and English.
//!
//! The texts are fields of one struct, so a template that names a text that does not exist
//! does not compile, and a language that lacks one does not either. Codes the API speaks
//! (statuses, causes, event types, methods) are shown through `Lang::label`, which falls
//! back to the code itself for one it does not know (a cause code from the bank's own
//! catalogue, say).

/// The languages the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

/// The cookie that keeps the language a person chose.
pub const LANG_COOKIE: &str = "suspense_lang";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The language tag, for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language a tag names; Chinese for anything else.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        match tag {
            Some("en") => Lang::En,
            _ => Lang::ZhCn,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::En => &EN,
        }
    }

    /// What a code of the API (a status, cause category, event type, resolution method,
    /// escalation level or role) is called in this language.
    pub fn label(self, code: &str) -> String {
        LABELS
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(_, zh, en)| match self {
                Lang::ZhCn => (*zh).to_owned(),
                Lang::En => (*en).to_owned(),
            })
            .unwrap_or_else(|| code.to_owned())
    }
}

/// Code, Chinese, English.
const LABELS: &[(&str, &str, &str)] = &[
    ("open", "未结清", "Open"),
    ("pending_approval", "待审批", "Pending approval"),
    ("resolved", "已结清", "Resolved"),
    ("unclassified", "未分类", "Unclassified"),
    ("operational_error", "操作差错", "Operational error"),
    ("system_failure", "系统故障", "System failure"),
    ("customer_cause", "客户原因", "Customer cause"),
    ("external_cause", "外部原因", "External cause"),
    ("process_gap", "流程缺陷", "Process gap"),
    ("posted_to_account", "入账至客户账户", "Posted to account"),
    ("returned_to_sender", "退回汇款人", "Returned to sender"),
    ("refunded", "退款", "Refunded"),
    ("written_off", "核销", "Written off"),
    (
        "offset_against_postings",
        "与分录轧差",
        "Offset against postings",
    ),
    ("team_lead", "组长", "Team lead"),
    ("department", "部门", "Department"),
    ("management", "管理层", "Management"),
    ("operator", "经办", "Operator"),
    ("supervisor", "主管", "Supervisor"),
    ("reporter", "报表", "Reporter"),
    ("auditor", "审计", "Auditor"),
    ("Opened", "挂账登记", "Opened"),
    ("Classified", "归因分类", "Classified"),
    ("Reclassified", "重新分类", "Reclassified"),
    ("Attributed", "责任认定", "Attributed"),
    ("Assigned", "分派", "Assigned"),
    ("Reassigned", "改派", "Reassigned"),
    ("Escalated", "升级", "Escalated"),
    ("ClearingRecorded", "销账记录", "Clearing recorded"),
    ("ResolutionProposed", "提请结清", "Resolution proposed"),
    (
        "ResolutionApprovalRecorded",
        "审批同意",
        "Approval recorded",
    ),
    ("ResolutionRejected", "审批驳回", "Resolution rejected"),
    ("Resolved", "结清", "Resolved"),
    ("Reopened", "重新打开", "Reopened"),
    ("Commented", "备注", "Commented"),
    ("LinkedToIncident", "关联事件", "Linked to incident"),
    (
        "UnlinkedFromIncident",
        "解除事件关联",
        "Unlinked from incident",
    ),
];

/// The console's texts in one language.
pub struct Texts {
    pub product: &'static str,
    pub overview: &'static str,
    pub worklist: &'static str,
    pub approvals: &'static str,
    pub audit: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub token: &'static str,
    pub token_help: &'static str,
    pub signed_in_as: &'static str,
    pub language: &'static str,
    pub session_ended: &'static str,
    pub token_refused: &'static str,
    pub not_allowed: &'static str,
    pub form_expired: &'static str,
    pub not_found: &'static str,
    pub failed: &'static str,
    pub reference: &'static str,
    pub branch: &'static str,
    pub team: &'static str,
    pub assignee: &'static str,
    pub status: &'static str,
    pub category: &'static str,
    pub code: &'static str,
    pub amount: &'static str,
    pub outstanding: &'static str,
    pub cleared: &'static str,
    pub currency: &'static str,
    pub booked_on: &'static str,
    pub value_date: &'static str,
    pub age_days: &'static str,
    pub escalation: &'static str,
    pub account: &'static str,
    pub channel: &'static str,
    pub description: &'static str,
    pub all: &'static str,
    pub mine: &'static str,
    pub min_age_days: &'static str,
    pub filter: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub no_items: &'static str,
    pub items: &'static str,
    pub timeline: &'static str,
    pub when: &'static str,
    pub who: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    pub request_id: &'static str,
    pub actions: &'static str,
    pub classify: &'static str,
    pub reason: &'static str,
    pub assign: &'static str,
    pub comment: &'static str,
    pub text: &'static str,
    pub record_clearing: &'static str,
    pub clearing_reference: &'static str,
    pub resolve: &'static str,
    pub method: &'static str,
    pub posted_to: &'static str,
    pub note: &'static str,
    pub approve: &'static str,
    pub reject: &'static str,
    pub escalate: &'static str,
    pub level: &'static str,
    pub reopen: &'static str,
    pub submit: &'static str,
    pub done: &'static str,
    pub proposed: &'static str,
    pub read_only: &'static str,
    pub open_balance: &'static str,
    pub open_items: &'static str,
    pub aging: &'static str,
    pub pareto: &'static str,
    pub opened: &'static str,
    pub share: &'static str,
    pub change: &'static str,
    pub previous_period: &'static str,
    pub suspense_rate: &'static str,
    pub escalated_items: &'static str,
    pub download_csv: &'static str,
    pub as_of: &'static str,
    pub period: &'static str,
    pub chain_head: &'static str,
    pub verify: &'static str,
    pub verified: &'static str,
    pub export_log: &'static str,
    pub report_as_known_at: &'static str,
    pub show: &'static str,
    pub events: &'static str,
    pub waiting_approvals: &'static str,
    pub skip_to_content: &'static str,
    pub version: &'static str,
}

pub static ZH_CN: Texts = Texts {
    product: "挂账管理",
    overview: "总览",
    worklist: "待办清单",
    approvals: "审批队列",
    audit: "审计",
    sign_in: "登录",
    sign_out: "退出登录",
    token: "访问令牌",
    token_help: "请输入管理员发放的访问令牌（或统一身份认证的访问令牌）。",
    signed_in_as: "当前用户",
    language: "语言",
    session_ended: "登录已超时，请重新登录。",
    token_refused: "令牌无效或已过期。",
    not_allowed: "您的角色不能执行此操作。",
    form_expired: "表单已失效，请刷新页面后重试。",
    not_found: "找不到该笔挂账。",
    failed: "操作未完成",
    reference: "业务编号",
    branch: "机构",
    team: "处理小组",
    assignee: "经办人",
    status: "状态",
    category: "原因类别",
    code: "原因代码",
    amount: "金额",
    outstanding: "未结金额",
    cleared: "已销金额",
    currency: "币种",
    booked_on: "挂账日",
    value_date: "起息日",
    age_days: "账龄（天）",
    escalation: "升级层级",
    account: "科目",
    channel: "渠道",
    description: "摘要",
    all: "全部",
    mine: "我的",
    min_age_days: "账龄至少（天）",
    filter: "筛选",
    next_page: "下一页",
    first_page: "第一页",
    no_items: "没有符合条件的挂账。",
    items: "笔",
    timeline: "事件时间轴",
    when: "时间",
    who: "操作人",
    what: "事件",
    why: "说明",
    request_id: "请求编号",
    actions: "可执行操作",
    classify: "归因分类",
    reason: "原因说明",
    assign: "分派",
    comment: "备注",
    text: "内容",
    record_clearing: "登记销账",
    clearing_reference: "销账编号",
    resolve: "结清",
    method: "结清方式",
    posted_to: "入账账户",
    note: "附注",
    approve: "审批同意",
    reject: "驳回",
    escalate: "升级",
    level: "层级",
    reopen: "重新打开",
    submit: "提交",
    done: "已完成。",
    proposed: "已提请审批，等待主管核准。",
    read_only: "您的角色只能查阅此笔挂账。",
    open_balance: "未结余额",
    open_items: "未结笔数",
    aging: "账龄分布",
    pareto: "原因柏拉图",
    opened: "新增笔数",
    share: "占比",
    change: "较上期",
    previous_period: "上期",
    suspense_rate: "挂账率",
    escalated_items: "已升级挂账",
    download_csv: "下载 CSV",
    as_of: "截至",
    period: "期间",
    chain_head: "哈希链头",
    verify: "校验",
    verified: "日志完整，未被篡改",
    export_log: "汇出日志",
    report_as_known_at: "按某一时点已知信息重现报表",
    show: "查看",
    events: "事件数",
    waiting_approvals: "等待审批的结清",
    skip_to_content: "跳到主要内容",
    version: "版本",
};

pub static EN: Texts = Texts {
    product: "Suspense",
    overview: "Overview",
    worklist: "Worklist",
    approvals: "Approval queue",
    audit: "Audit",
    sign_in: "Sign in",
    sign_out: "Sign out",
    token: "Access token",
    token_help:
        "Enter the access token your administrator gave you (or a single sign-on access token).",
    signed_in_as: "Signed in as",
    language: "Language",
    session_ended: "Your session ended; please sign in again.",
    token_refused: "The token is not valid or has expired.",
    not_allowed: "Your role cannot do this.",
    form_expired: "The form has expired; reload the page and try again.",
    not_found: "No such item.",
    failed: "Not done",
    reference: "Reference",
    branch: "Branch",
    team: "Team",
    assignee: "Assignee",
    status: "Status",
    category: "Cause category",
    code: "Cause code",
    amount: "Amount",
    outstanding: "Outstanding",
    cleared: "Cleared",
    currency: "Currency",
    booked_on: "Booked on",
    value_date: "Value date",
    age_days: "Age (days)",
    escalation: "Escalation",
    account: "Account",
    channel: "Channel",
    description: "Description",
    all: "All",
    mine: "Mine",
    min_age_days: "At least (days old)",
    filter: "Filter",
    next_page: "Next page",
    first_page: "First page",
    no_items: "No items match.",
    items: "items",
    timeline: "Timeline",
    when: "When",
    who: "Who",
    what: "Event",
    why: "Details",
    request_id: "Request id",
    actions: "Actions",
    classify: "Classify",
    reason: "Reason",
    assign: "Assign",
    comment: "Comment",
    text: "Text",
    record_clearing: "Record a clearing",
    clearing_reference: "Clearing reference",
    resolve: "Resolve",
    method: "Method",
    posted_to: "Posted to account",
    note: "Note",
    approve: "Approve",
    reject: "Reject",
    escalate: "Escalate",
    level: "Level",
    reopen: "Reopen",
    submit: "Submit",
    done: "Done.",
    proposed: "Proposed; waiting for a supervisor's approval.",
    read_only: "Your role can only read this item.",
    open_balance: "Open balance",
    open_items: "Open items",
    aging: "Aging",
    pareto: "Root-cause Pareto",
    opened: "Opened",
    share: "Share",
    change: "Change",
    previous_period: "Previous period",
    suspense_rate: "Suspense rate",
    escalated_items: "Escalated items",
    download_csv: "Download CSV",
    as_of: "As of",
    period: "Period",
    chain_head: "Chain head",
    verify: "Verify",
    verified: "The log is complete and untampered",
    export_log: "Export the log",
    report_as_known_at: "A report as known at a time",
    show: "Show",
    events: "Events",
    waiting_approvals: "Resolutions waiting for approval",
    skip_to_content: "Skip to content",
    version: "Version",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_api_has_a_label_in_each_language() {
        let codes = suspense_domain::RootCauseCategory::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(
                suspense_domain::ResolutionMethod::ALL
                    .iter()
                    .map(|m| m.as_str()),
            )
            .chain(
                suspense_domain::EscalationLevel::ALL
                    .iter()
                    .map(|l| l.as_str()),
            )
            .chain(["open", "pending_approval", "resolved"]);
        for code in codes {
            for lang in Lang::ALL {
                assert_ne!(lang.label(code), code, "{code} in {}", lang.tag());
            }
        }
    }
}
