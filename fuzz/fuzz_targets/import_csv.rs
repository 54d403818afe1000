//! Any bytes as a suspense extract: every row is accepted or reported, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = b"source_system,reference,account,branch,channel,amount,currency,direction,booked_on,value_date,description,funds_held,fee_amount,fee_currency\n";
    let mut input = header.to_vec();
    input.extend_from_slice(data);
    let (items, errors) = suspense_service::cli::parse_extract(input.as_slice());
    for error in errors {
        assert!(error.line >= 2, "row errors name a data line");
    }
    for (_, item) in items {
        // Accepted amounts are exact at the currency's scale.
        assert_eq!(item.amount.amount().scale(), item.amount.currency().minor_units());
    }
    let _ = suspense_service::cli::parse_extract(data);
});
