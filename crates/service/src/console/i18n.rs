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

    /// A refusal of the API as the person reads it: in English the API's own sentence; in
    /// Chinese the rule its code names, then the API's sentence with the particulars
    /// (amounts, codes, fields) as the service wrote them.
    pub fn refusal(self, code: &str, message: &str) -> String {
        match self {
            Lang::En => message.to_owned(),
            Lang::ZhCn => {
                let rule = REFUSALS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or("请求未被接受", |(_, zh)| *zh);
                format!("{rule}（{message}）")
            }
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
    ("drafted", "草拟", "Drafted"),
    ("approved", "已批准", "Approved"),
    ("closed", "已关闭", "Closed"),
    ("met", "已达成", "Met"),
    ("missed", "未达成", "Missed"),
    ("on_track", "进度正常", "On track"),
    ("at_risk", "有风险", "At risk"),
    ("not_started", "未开始", "Not started"),
    ("no_data", "无数据", "No data"),
    ("running", "进行中", "Running"),
    ("ended", "已结束", "Ended"),
    ("planned", "计划中", "Planned"),
    ("in_progress", "实施中", "In progress"),
    ("done", "已完成", "Done"),
    ("dropped", "已取消", "Dropped"),
    ("lower", "下降", "Lower"),
    ("higher", "上升", "Higher"),
    ("unchanged", "持平", "Unchanged"),
    ("too_few_items", "样本不足", "Too few items"),
    ("not_yet_measurable", "尚不可衡量", "Not yet measurable"),
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
    (
        "CustomerImpactRecorded",
        "登记客户影响",
        "Customer impact recorded",
    ),
    (
        "CustomerFeeIncurred",
        "客户产生费用",
        "Customer fee incurred",
    ),
    (
        "CustomerFeeRefunded",
        "退还客户费用",
        "Customer fee refunded",
    ),
    ("ComplaintReceived", "收到客户投诉", "Complaint received"),
    ("ComplaintClosed", "客户投诉办结", "Complaint closed"),
    ("ReminderDue", "应提醒客户", "Reminder due"),
    ("ReminderSent", "已提醒客户", "Reminder sent"),
    ("ReminderFailed", "提醒客户失败", "Reminder failed"),
];

/// The rules behind the API's refusal codes, in Chinese.
pub const REFUSALS: &[(&str, &str)] = &[
    ("invalid_field", "字段填写有误"),
    ("malformed_request", "请求格式有误"),
    ("payload_too_large", "请求内容过大"),
    ("unauthenticated", "未登录或令牌无效"),
    ("forbidden", "您的角色无权执行此操作"),
    ("out_of_scope", "该机构不在您的管辖范围内"),
    ("not_found", "未找到"),
    ("version_mismatch", "项目已被他人修改，请刷新后重试"),
    ("concurrent_update", "项目正被他人同时修改，请刷新后重试"),
    ("idempotency_key_reused", "幂等键已用于另一请求"),
    ("request_in_progress", "相同请求正在处理中"),
    ("unavailable", "服务暂不可用，请稍后重试"),
    ("internal", "服务内部错误"),
    ("policy_refused", "不符合预警政策"),
    ("organisation_refused", "不符合机构设置"),
    ("item_not_found", "未找到该挂账项目"),
    ("reference_conflict", "该业务参考号已被内容不同的项目使用"),
    ("amount_not_positive", "金额必须大于零"),
    ("currency_mismatch", "币种与项目不一致"),
    ("unknown_root_cause_code", "原因代码不在原因目录中"),
    ("root_cause_category_mismatch", "原因代码不属于所选原因类别"),
    ("required", "缺少必填项"),
    ("implausible_date", "日期不合理"),
    ("unknown_branch", "机构未登记"),
    ("unknown_team", "团队未登记"),
    ("attribution_not_admitted", "该原因类别不允许此归属"),
    ("unknown_counterparty", "交易对手不在银行名单中"),
    ("item_resolved", "项目已结清，只能重开或备注"),
    ("item_not_resolved", "项目尚未结清，不能重开"),
    ("item_not_classified", "项目尚未归因，请先归类再结清"),
    ("escalation_not_raised", "预警级别只能提高"),
    ("clearing_exceeds_outstanding", "冲销金额超过未结金额"),
    (
        "clearing_reference_conflict",
        "该冲销参考号已以不同金额记录",
    ),
    ("resolution_amount_mismatch", "结清金额必须等于全部未结金额"),
    ("approval_required", "此结清需要审批，请改为提交审批"),
    ("proposal_pending", "已有待审批的结清方案，请先审批或驳回"),
    ("no_pending_proposal", "没有待审批的结清方案"),
    ("self_approval", "不能审批自己提交的方案"),
    ("already_approved", "您已审批过此方案"),
    (
        "approver_of_the_items_branch",
        "审批人须有权审批该机构的项目",
    ),
    ("item_in_another_incident", "项目已关联到另一事件"),
    ("item_not_linked", "项目未关联到该事件"),
    ("linked_through_incident", "事件关联只能通过事件操作"),
    ("customer_conflict", "项目已登记另一客户"),
    ("fee_reference_conflict", "该费用参考号已以不同金额登记"),
    ("unknown_fee", "项目未登记该费用"),
    ("refund_exceeds_fee", "退费金额超过可退费用"),
    ("complaint_conflict", "该投诉已以不同时间或渠道登记"),
    ("unknown_complaint", "项目未登记该投诉"),
    (
        "complaint_closed_before_received",
        "投诉办结时间早于收到时间",
    ),
    ("complaint_closed", "该投诉已办结"),
    ("no_customer", "项目未登记客户，无法提醒"),
    ("reminder_not_later", "提醒须晚于上一次提醒"),
    ("reminder_not_due", "该提醒尚未到期"),
    ("reminder_already_sent", "该提醒已发送"),
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
    pub plans: &'static str,
    pub phase: &'static str,
    pub targets: &'static str,
    pub metric: &'static str,
    pub baseline: &'static str,
    pub actual: &'static str,
    pub target: &'static str,
    pub progress: &'static str,
    pub verdict: &'static str,
    pub measures: &'static str,
    pub owner: &'static str,
    pub due: &'static str,
    pub effect: &'static str,
    pub order: &'static str,
    pub oldest_first: &'static str,
    pub risk_first: &'static str,
    pub breaching_policy: &'static str,
    pub level_n: &'static str,
    pub transactions: &'static str,
    pub per_10000: &'static str,
    pub no_volumes: &'static str,
    pub month: &'static str,
    pub head_office_only: &'static str,
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
    plans: "整改方案",
    phase: "阶段",
    targets: "目标",
    metric: "指标",
    baseline: "基线",
    actual: "实际",
    target: "目标值",
    progress: "完成度",
    verdict: "评价",
    measures: "整改措施",
    owner: "负责人",
    due: "期限",
    effect: "成效",
    order: "排序",
    oldest_first: "账龄最长优先",
    risk_first: "风险最高优先（预警级别，再账龄）",
    breaching_policy: "超出预警政策阈值的未结项目",
    level_n: "预警级别",
    transactions: "交易笔数",
    per_10000: "每万笔交易",
    no_volumes: "所选月份未登记交易量，图中为新增挂账笔数。",
    month: "月份",
    head_office_only: "方案评估涵盖全行，需总行用户查看。",
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
    plans: "Remediation plans",
    phase: "Phase",
    targets: "Targets",
    metric: "Metric",
    baseline: "Baseline",
    actual: "Actual",
    target: "Target",
    progress: "Progress",
    verdict: "Verdict",
    measures: "Measures",
    owner: "Owner",
    due: "Due",
    effect: "Effect",
    order: "Order",
    oldest_first: "Oldest first",
    risk_first: "Highest risk first (escalation level, then age)",
    breaching_policy: "Open items past the policy's thresholds",
    level_n: "Escalation level",
    transactions: "Transactions",
    per_10000: "per 10,000 transactions",
    no_volumes:
        "No transaction volumes are recorded for these months; the chart shows items opened.",
    month: "Month",
    head_office_only: "A plan's evaluation covers the whole bank: it needs a head-office user.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_an_item_form_can_meet_reads_in_chinese() {
        use suspense_domain::{ItemError, Money};
        let cny = |amount: &str| Money::parse(amount, "CNY").expect("money");
        let item_errors = [
            ItemError::NotOpened,
            ItemError::AmountNotPositive { field: "amount" },
            ItemError::AlreadyResolved,
            ItemError::NotResolved,
            ItemError::NotClassified,
            ItemError::ClearingExceedsOutstanding {
                outstanding: cny("1.00"),
                requested: cny("2.00"),
            },
            ItemError::ProposalPending,
            ItemError::NoPendingProposal,
            ItemError::SelfApproval,
            ItemError::AlreadyApproved,
            ItemError::LinkedThroughIncident,
        ];
        for err in item_errors {
            assert!(
                REFUSALS.iter().any(|(code, _)| *code == err.code()),
                "no Chinese for {}",
                err.code()
            );
        }
        let refused = Lang::ZhCn.refusal("item_resolved", "the item is resolved");
        assert_eq!(
            refused,
            "项目已结清，只能重开或备注（the item is resolved）"
        );
        assert_eq!(
            Lang::En.refusal("item_resolved", "the item is resolved"),
            "the item is resolved"
        );
        assert!(Lang::ZhCn
            .refusal("a_code_from_later", "why")
            .starts_with("请求未被接受"));
    }

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
