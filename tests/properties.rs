//! The engine against the embedded mock: every property holds on a faithful
//! mock (in both fidelity modes, and with cart updates allowed), and every
//! defect mode of the mock is caught by the property README names for it,
//! with a replay that fails the same way, byte for byte.

use klarna_conformance::mock::{Defect, MockConfig};
use klarna_conformance::model::validate::Fidelity;
use klarna_conformance::oracle::OracleConfig;
use klarna_conformance::runner::{self, Property, RunConfig, RunReport, report};
use klarna_conformance::targets::TargetSpec;

/// The binary's allocator (src/main.rs): these tests run the engine hard.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn config(seed: u64, cases: u64, mock: MockConfig) -> RunConfig {
    let mut config = RunConfig::new(seed, cases);
    config.oracle = OracleConfig {
        allow_cart_updates: mock.allow_cart_updates,
        fidelity: mock.fidelity,
        lenient: false,
    };
    config.target = TargetSpec::Mock(mock.seed(seed));
    config
}

fn failures(report: &RunReport) -> Vec<String> {
    report
        .properties
        .iter()
        .filter_map(|p| {
            p.failure
                .as_ref()
                .map(|f| format!("{}:\n{}", p.property.name(), report::sequence_text(f)))
        })
        .collect()
}

fn holds(report: &RunReport) {
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    assert!(
        failures(report).is_empty(),
        "{}",
        failures(report).join("\n")
    );
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn every_property_holds_against_the_mock_with_a_fixed_seed() {
    let report = runner::run(&config(20261126, 40, MockConfig::default()));
    holds(&report);
    assert_eq!(report.properties.len(), Property::all().count());
    for p in &report.properties {
        match p.skipped {
            // No browser-authorized token exists against the mock.
            Some(_) => assert_eq!(p.property, Property::AuthorizedTokenOrder),
            None => assert_eq!(p.cases, 40, "{}", p.property.name()),
        }
    }
    let text = report::render(&report, "");
    let summary = format!(
        "{} passed, 0 failed, 1 skipped",
        Property::all().count() - 1
    );
    assert!(text.contains(&summary), "{text}");
}

#[test]
fn strict_fidelity_and_cart_updates_raise_no_false_alarm() {
    holds(&runner::run(&config(
        7,
        30,
        MockConfig::default().fidelity(Fidelity::Documented),
    )));
    holds(&runner::run(&config(
        8,
        30,
        MockConfig::default().allow_cart_updates(true),
    )));
}

/// Against the mock, the same seed gives the same requests and the same
/// answers, byte for byte, however the properties are spread over workers.
#[test]
fn the_same_seed_gives_byte_identical_exchanges() {
    let exchanges = |workers: usize| {
        let mut c = config(
            5,
            20,
            MockConfig::default().defect(Defect::MismatchedCorrelationId),
        );
        c.workers = Some(workers);
        runner::run(&c)
            .properties
            .into_iter()
            .map(|p| (p.property, p.failure.map(|f| (f.case_seed, f.exchanges))))
            .collect::<Vec<_>>()
    };
    let one = exchanges(1);
    assert!(one.iter().any(|(_, f)| f.is_some()), "the defect is found");
    assert_eq!(one, exchanges(2));
}

/// Runs `property` against a mock with `defect` until it fails, then replays
/// the printed seed and expects the same failure, exchanges included.
fn shown_to_fail(property: Property, defect: Defect) {
    let mut config = config(99, 300, MockConfig::default().defect(defect));
    config.properties = vec![property];
    let report = runner::run(&config);
    assert!(report.target_error.is_none(), "{:?}", report.target_error);
    let found = report.properties[0].failure.as_ref().unwrap_or_else(|| {
        panic!(
            "{} held against the defect {defect} ({} cases)",
            property.name(),
            report.properties[0].cases
        )
    });
    assert_eq!(report.exit_code(), 1);
    let flag = format!(" --defect {defect}");
    let text = report::render(&report, &flag);
    let command = format!(
        "klarna-conformance replay --property {} --seed {}{flag}",
        property.name(),
        found.case_seed
    );
    assert!(text.contains(&command), "{text}");
    assert!(text.contains("✗"), "the failing step is marked: {text}");

    // The replay is exact: the same shrunk sequence, the same failure, and
    // the same requests and answers byte for byte (ids included).
    let replayed = runner::replay(&config, property, found.case_seed);
    let again = replayed.properties[0]
        .failure
        .as_ref()
        .expect("the replay fails too");
    assert_eq!(again.case_seed, found.case_seed);
    assert_eq!(again.failure, found.failure);
    assert_eq!(again.exchanges, found.exchanges);
}

macro_rules! defect_tests {
    ($($name:ident: $property:ident by $defect:ident,)+) => {
        $(
            #[test]
            fn $name() {
                shown_to_fail(Property::$property, Defect::$defect);
            }
        )+

        /// Every defect mode is in the table, and every property that can
        /// run against the mock is shown to fail by one of them; README lists
        /// each defect with the property that catches it here.
        #[test]
        fn every_defect_and_property_is_covered() {
            let table = [$((Property::$property, Defect::$defect)),+];
            let readme = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"),
            )
            .unwrap();
            for (p, d) in &table {
                let row = format!("| `{d}` | {} | `{}` |", d.description().replace('|', "\\|"), p.name());
                assert!(readme.contains(&row), "README lacks the row {row}");
            }
            for p in Property::all() {
                assert!(readme.contains(&format!("| `{}` |", p.name())), "README lacks {}", p.name());
            }
            for d in Defect::ALL {
                assert!(table.iter().any(|(_, t)| t == d), "{d} is caught by no test");
            }
            for p in Property::all().filter(|p| *p != Property::AuthorizedTokenOrder) {
                assert!(table.iter().any(|(q, _)| *q == p), "{} has no defect that fails it", p.name());
            }
        }
    };
}

defect_tests! {
    order_id_dropped: OrderSucceeds by DropOrderId,
    fraud_status_dropped: OrderSucceeds by DropFraudStatus,
    payment_method_dropped: OrderSucceeds by DropAuthorizedPaymentMethod,
    om_wrong_amount: OrderSucceeds by OmWrongAmount,
    auto_capture_ignored: OrderSucceeds by OmNeverCaptured,
    unasked_redirect_url: OrderSucceeds by AlwaysRedirectUrl,
    missing_redirect_url: OrderSucceeds by NeverRedirectUrl,
    session_stays_incomplete: OrderSucceeds by SessionStaysIncomplete,
    update_after_order: OrderSucceeds by UpdateAfterOrderAllowed,
    no_correlation_id_on_success: OrderSucceeds by NoCorrelationIdOnSuccess,
    om_drops_a_line: OrderSucceeds by OmDropsLastLine,
    address_changes_ignored: ChangedDataRefused by IgnoreAddressChanges,
    cart_changes_ignored: ChangedDataRefused by IgnoreCartChanges,
    amount_changes_ignored: ChangedDataRefused by IgnoreAmountChanges,
    first_mismatch_only: ChangedDataRefused by ReportFirstMismatchOnly,
    no_item_count_message: ChangedDataRefused by NoItemCountMessage,
    mismatch_as_400: ChangedDataRefused by WrongStatusForMismatch,
    address_case_normalised: ChangedDataRefused by NormaliseAddressCase,
    address_spaces_trimmed: ChangedDataRefused by TrimAddressSpaces,
    customer_changes_ignored: ChangedDataRefused by CustomerChangesIgnored,
    neutral_change_refused: NeutralChangeAccepted by RequireCustomerMatch,
    read_only_fields_refused: NeutralChangeAccepted by ReadOnlyFieldsRefused,
    expired_tokens_accepted: TokenExpiry by AcceptExpiredTokens,
    expiry_one_second_late: TokenExpiry by ExpireOneSecondLate,
    token_lifetime_from_session: TokenExpiry by TokenLifetimeFromSession,
    unknown_token_as_400: UnknownToken by UnknownTokenBadRequest,
    replaced_tokens_accepted: ReplacedToken by AcceptReplacedTokens,
    cancelled_tokens_accepted: CancelledToken by AcceptCancelledTokens,
    cancel_after_order: CancelledToken by CancelAfterOrderAllowed,
    new_order_id_on_retry: RetryIdempotent by NewOrderIdOnRetry,
    new_order_id_on_late_retry: RetryIdempotent by NewOrderIdOnLateRetry,
    retry_drops_redirect_url: RetryIdempotent by RetryDropsRedirectUrl,
    conflicting_retry_accepted: RetryConflict by AcceptConflictingRetry,
    errors_do_not_stick: RetryAfterError by ErrorsDoNotStick,
    validation_errors_stick: RetryAfterError by ValidationErrorsStick,
    conflict_before_validation: RetryAfterError by ConflictBeforeValidation,
    amounts_not_validated: InconsistentAmounts by SkipAmountValidation,
    missing_fields_accepted: MissingFieldRefused by MissingFieldsAccepted,
    denied_approved: DeniedNotAuthorized by ApproveDenied,
    never_pending: PendingFraudStatus by NeverPending,
    pending_everywhere: PendingFraudStatus by PendingEverywhere,
    pending_near_miss: PendingFraudStatus by PendingNearMiss,
    pending_capture_allowed: PendingFraudStatus by CapturePendingAllowed,
    om_pending_shown_accepted: PendingFraudStatus by OmFraudStatusAccepted,
    update_ignored: SessionReadBack by UpdateIgnored,
    read_back_ignores_updates: SessionReadBack by ReadBackIgnoresUpdates,
    customer_before_authorize: SessionReadBack by ShowsCustomerBeforeAuthorize,
    inconsistent_update_accepted: SessionReadBack by InconsistentUpdateAccepted,
    sessions_live_2h: SessionLifetime by SessionLifetime2h,
    session_lifetime_from_creation: SessionLifetime by SessionLifetimeFromCreation,
    expires_at_from_creation: SessionLifetime by ExpiresAtFromCreation,
    om_remaining_not_reduced: OrderManagement by OmRemainingNotReduced,
    om_status_stays_authorized: OrderManagement by OmStatusStaysAuthorized,
    capture_over_remaining: OrderManagement by CaptureOverRemaining,
    capture_without_location: OrderManagement by CaptureWithoutLocation,
    unknown_order_wrong_code: UnknownIdsNotFound by NoSuchOrderWrongCode,
    wrong_credentials_accepted: WrongCredentialsRefused by AcceptWrongCredentials,
    mismatched_correlation_id: ErrorsCarryCorrelationId by MismatchedCorrelationId,
    empty_error_messages: ErrorsCarryCorrelationId by EmptyErrorMessages,
    text_plain_errors: ErrorsCarryCorrelationId by TextPlainErrors,
    repeated_correlation_id: ErrorsCarryCorrelationId by RepeatedCorrelationId,
    numeric_order_id: OrderSucceeds by NumericOrderId,
    client_token_not_jwt: ResponsesMatchModel by ClientTokenNotJwt,
    client_token_wrong_session: ResponsesMatchModel by ClientTokenWrongSession,
    shared_order_id: Sequences by SharedOrderId,
    refund_over_captured: Refunds by RefundOverCaptured,
    refund_without_capture: Refunds by RefundWithoutCapture,
    cancel_after_capture: CancelAndRelease by CancelAfterCapture,
    idempotency_key_ignored: IdempotencyKeys by IdempotencyKeyIgnored,
    no_transaction_id: OperationsRepeat by NoTransactionId,
    new_transaction_id_on_repeat: OperationsRepeat by NewTransactionIdOnRepeat,
    relative_location: OrderManagement by RelativeLocation,
    missing_amount_400: OrderManagement by MissingAmount400,
    refunded_amount_not_shown: Refunds by RefundedAmountNotShown,
    pending_never_decided: PendingReview by PendingNeverDecided,
    rejected_not_cancelled: PendingReview by RejectedNotCancelled,
    no_fraud_notification: PendingReview by NoFraudNotification,
    no_authorization_callback: PendingReview by NoAuthorizationCallback,
    never_expires: AuthorizationExpiry by NeverExpires,
    extend_after_expiry: AuthorizationExpiry by ExtendAfterExpiry,
    release_keeps_remaining: CancelAndRelease by ReleaseKeepsRemaining,
    read_back_without_captures: OrderManagement by ReadBackWithoutCaptures,
    capture_list_drops_latest: Refunds by CaptureListDropsLatest,
    kp_vocabulary_payment_method: OrderSucceeds by KpVocabularyPaymentMethod,
    customer_token_retry_refused: CustomerTokens by CustomerTokenRetryRefused,
    token_order_idempotency_ignored: IdempotencyKeys by TokenOrderIdempotencyIgnored,
    cancelled_customer_token_orders: CustomerTokens by CancelledCustomerTokenOrders,
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(3))]

    /// Whatever the run seed, the faithful mock passes.
    #[test]
    fn any_run_seed_holds(seed in proptest::num::u64::ANY) {
        let report = runner::run(&config(seed, 5, MockConfig::default()));
        proptest::prop_assert!(report.target_error.is_none());
        proptest::prop_assert!(failures(&report).is_empty(), "{}", failures(&report).join("\n"));
    }
}

/// With Klarna's OpenAPI documents (`--openapi`), every answer of the faithful
/// mock also fits the published schemas: the schema check raises no false alarm.
#[test]
fn every_property_holds_with_the_openapi_schema_check() {
    let mut config = config(11, 16, MockConfig::default());
    for var in ["KLARNA_OPENAPI", "KLARNA_OM_OPENAPI"] {
        if let Some(api) = klarna_conformance::openapi::OpenApi::from_env(var)
            .unwrap_or_else(|e| panic!("{var}: {e}"))
        {
            config.openapi.push(std::sync::Arc::new(api));
        }
    }
    holds(&runner::run(&config));
}

/// A run against a defect mode keeps no seed, and one against a usable
/// faithful target keeps the seeds of its failures only.
#[test]
fn a_defect_run_keeps_no_regression_seed() {
    let dir = std::env::temp_dir().join(format!("kc-regressions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut c = config(3, 50, MockConfig::default().defect(Defect::DropOrderId));
    c.properties = vec![Property::OrderSucceeds];
    c.regressions_dir = Some(dir.clone());
    let report = runner::run(&c);
    assert_eq!(report.exit_code(), 1);
    assert!(!dir.exists(), "a --defect run wrote {}", dir.display());
}

/// Millions of judged requests against the faithful mock in both fidelity
/// modes and with cart updates allowed, and not one false alarm. Long: run
/// with `cargo test --release --test properties -- --ignored` (figures in README).
#[test]
#[ignore]
fn no_false_alarm_over_a_million_operations() {
    let mocks = [
        MockConfig::default(),
        MockConfig::default().fidelity(Fidelity::Documented),
        MockConfig::default().allow_cart_updates(true),
    ];
    for (i, mock) in mocks.into_iter().enumerate() {
        let start = std::time::Instant::now();
        let report = runner::run(&config(0x5eed + i as u64, 8000, mock.clone()));
        holds(&report);
        eprintln!(
            "{mock:?}: {} cases, {} operations in {:.1} s",
            report.cases(),
            report.operations(),
            start.elapsed().as_secs_f64()
        );
        assert!(report.operations() >= 1_000_000, "{}", report.operations());
    }
}
