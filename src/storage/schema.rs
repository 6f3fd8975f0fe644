//! The diesel table definitions, one for both backends. Mirrors
//! migrations/{postgres,sqlite}; the migration test checks they stay in step.

diesel::table! {
    municipalities (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        prefecture -> Text,
        first_response_days -> Integer,
        decision_days -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    zones (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    departments (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        name -> Text,
        email -> Nullable<Text>,
        is_desk -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    department_policy_fields (department_id, policy_field) {
        department_id -> BigInt,
        policy_field -> Text,
    }
}

diesel::table! {
    staff_users (id) {
        id -> BigInt,
        municipality_id -> Nullable<BigInt>,
        department_id -> Nullable<BigInt>,
        role -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        locale -> Text,
        status -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        must_change_password -> Bool,
        keyboard_shortcuts -> Bool,
    }
}

diesel::table! {
    partners (id) {
        id -> BigInt,
        kind -> Text,
        name -> Text,
        corporate_number -> Nullable<Text>,
        contact_name -> Text,
        contact_email -> Text,
        phone -> Nullable<Text>,
        website -> Nullable<Text>,
        description -> Text,
        status -> Text,
        locale -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
        corporate_number_claim -> Nullable<Text>,
    }
}

diesel::table! {
    partner_email_verifications (id) {
        id -> BigInt,
        partner_id -> BigInt,
        email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_regions (partner_id, region_code) {
        partner_id -> BigInt,
        region_code -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        partner_id -> Nullable<BigInt>,
        staff_user_id -> Nullable<BigInt>,
        label -> Text,
        prefix -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    needs (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        department_id -> BigInt,
        zone_id -> Nullable<BigInt>,
        title -> Text,
        body -> Text,
        policy_field -> Text,
        visibility -> Text,
        status -> Text,
        open_until -> Nullable<Date>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    need_partner_kinds (need_id, partner_kind) {
        need_id -> BigInt,
        partner_kind -> Text,
    }
}

diesel::table! {
    offers (id) {
        id -> BigInt,
        partner_id -> BigInt,
        kind -> Text,
        title -> Text,
        body -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    offer_policy_fields (offer_id, policy_field) {
        offer_id -> BigInt,
        policy_field -> Text,
    }
}

diesel::table! {
    offer_regions (offer_id, region_code) {
        offer_id -> BigInt,
        region_code -> Text,
    }
}

diesel::table! {
    receipt_counters (municipality_id, year) {
        municipality_id -> BigInt,
        year -> Integer,
        last_seq -> Integer,
    }
}

diesel::table! {
    proposals (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        receipt_year -> Integer,
        receipt_seq -> Integer,
        channel -> Text,
        partner_id -> Nullable<BigInt>,
        submitter_name -> Text,
        submitter_org -> Nullable<Text>,
        submitter_email -> Nullable<Text>,
        submitter_phone -> Nullable<Text>,
        need_id -> Nullable<BigInt>,
        offer_id -> Nullable<BigInt>,
        title -> Text,
        body -> Text,
        policy_field -> Nullable<Text>,
        state -> Text,
        primary_department_id -> Nullable<BigInt>,
        decline_reason_code -> Nullable<Text>,
        decline_reason_text -> Nullable<Text>,
        declared_no_antisocial_at -> Nullable<Timestamp>,
        consented_contact_at -> Nullable<Timestamp>,
        department_due_on -> Nullable<Date>,
        proposer_due_on -> Nullable<Date>,
        decision_due_on -> Nullable<Date>,
        paused_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
        routed_at -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        consented_publication_at -> Nullable<Timestamp>,
        assignee_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// `proposals.duplicate_of_id` (重複), declared apart: diesel's `table!` takes at
    /// most 32 columns without a feature that slows every build, and `proposals` has 32.
    #[sql_name = "proposals"]
    proposal_duplicate_links (id) {
        id -> BigInt,
        duplicate_of_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    idempotency_keys (partner_id, key) {
        partner_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        proposal_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    proposal_departments (proposal_id, department_id) {
        proposal_id -> BigInt,
        department_id -> BigInt,
        is_primary -> Bool,
    }
}

diesel::table! {
    proposal_events (id) {
        id -> BigInt,
        proposal_id -> BigInt,
        kind -> Text,
        actor_staff_id -> Nullable<BigInt>,
        actor_partner_id -> Nullable<BigInt>,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        department_id -> Nullable<BigInt>,
        body -> Nullable<Text>,
        internal -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        department_id -> BigInt,
        policy_field -> Nullable<Text>,
        keyword -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    match_feedback (id) {
        id -> BigInt,
        need_id -> BigInt,
        offer_id -> BigInt,
        staff_user_id -> BigInt,
        verdict -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    match_alerts (need_id, offer_id) {
        need_id -> BigInt,
        offer_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        staff_user_id -> Nullable<BigInt>,
        partner_id -> Nullable<BigInt>,
        kind -> Text,
        delivery -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_searches (id) {
        id -> BigInt,
        staff_user_id -> Nullable<BigInt>,
        partner_id -> Nullable<BigInt>,
        name -> Text,
        query -> Text,
        filters_json -> Text,
        last_checked_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        dedupe_key -> Text,
        message_id -> Text,
        kind -> Text,
        recipient_type -> Text,
        recipient_id -> Nullable<BigInt>,
        recipient_email -> Text,
        recipient_name -> Nullable<Text>,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        delivery -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        claim_token -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        rejections -> Integer,
        attachment_name -> Nullable<Text>,
        attachment_type -> Nullable<Text>,
        attachment_bytes -> Nullable<Binary>,
    }
}

diesel::table! {
    weekly_report_runs (municipality_id, week_start) {
        municipality_id -> BigInt,
        week_start -> Date,
        figures -> Text,
        recipients -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    index_changes (id) {
        id -> BigInt,
        doc_type -> Text,
        doc_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_state (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    link_revocations (recipient_type, recipient_id) {
        recipient_type -> Text,
        recipient_id -> BigInt,
        not_before_unix -> BigInt,
    }
}

diesel::table! {
    demo_records (record_type, record_id) {
        record_type -> Text,
        record_id -> BigInt,
    }
}

diesel::table! {
    digest_runs (period_key) {
        period_key -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        recipients -> Integer,
    }
}

diesel::table! {
    console_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        staff_user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    staff_invitations (id) {
        id -> BigInt,
        staff_user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_type -> Text,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        municipality_id -> Nullable<BigInt>,
        source -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<BigInt>,
        target_label -> Text,
        detail -> Text,
    }
}

diesel::table! {
    proposal_attachments (id) {
        id -> BigInt,
        proposal_id -> BigInt,
        file_name -> Text,
        content_kind -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by_staff_id -> Nullable<BigInt>,
        uploaded_by_partner_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    proposal_attachment_blobs (attachment_id) {
        attachment_id -> BigInt,
        bytes -> Binary,
    }
}

diesel::table! {
    inbox_filters (id) {
        id -> BigInt,
        staff_user_id -> BigInt,
        name -> Text,
        query -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reply_templates (id) {
        id -> BigInt,
        municipality_id -> BigInt,
        name -> Text,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outcome_reports (id) {
        id -> BigInt,
        proposal_id -> BigInt,
        done_text -> Text,
        effect_yen -> Nullable<BigInt>,
        reported_on -> Date,
        reported_by_staff_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outcome_indicators (id) {
        id -> BigInt,
        report_id -> BigInt,
        seq -> Integer,
        name -> Text,
        unit -> Text,
        before_value -> Nullable<Text>,
        after_value -> Nullable<Text>,
    }
}

diesel::joinable!(console_sessions -> staff_users (staff_user_id));
diesel::joinable!(inbox_filters -> staff_users (staff_user_id));
diesel::joinable!(staff_invitations -> staff_users (staff_user_id));
diesel::joinable!(zones -> municipalities (municipality_id));
diesel::joinable!(departments -> municipalities (municipality_id));
diesel::joinable!(department_policy_fields -> departments (department_id));
diesel::joinable!(partner_regions -> partners (partner_id));
diesel::joinable!(partner_email_verifications -> partners (partner_id));
diesel::joinable!(needs -> municipalities (municipality_id));
diesel::joinable!(needs -> departments (department_id));
diesel::joinable!(needs -> zones (zone_id));
diesel::joinable!(need_partner_kinds -> needs (need_id));
diesel::joinable!(offers -> partners (partner_id));
diesel::joinable!(offer_policy_fields -> offers (offer_id));
diesel::joinable!(offer_regions -> offers (offer_id));
diesel::joinable!(proposal_events -> proposals (proposal_id));
diesel::joinable!(proposal_attachments -> proposals (proposal_id));
diesel::joinable!(proposal_attachment_blobs -> proposal_attachments (attachment_id));
diesel::joinable!(outcome_reports -> proposals (proposal_id));
diesel::joinable!(outcome_indicators -> outcome_reports (report_id));

diesel::allow_tables_to_appear_in_same_query!(
    municipalities,
    staff_invitations,
    audit_events,
    zones,
    departments,
    department_policy_fields,
    staff_users,
    inbox_filters,
    partners,
    partner_regions,
    partner_email_verifications,
    api_keys,
    needs,
    need_partner_kinds,
    offers,
    offer_policy_fields,
    offer_regions,
    receipt_counters,
    proposals,
    idempotency_keys,
    proposal_departments,
    proposal_events,
    proposal_attachments,
    proposal_attachment_blobs,
    reply_templates,
    outcome_reports,
    outcome_indicators,
    routing_rules,
    match_feedback,
    match_alerts,
    subscriptions,
    saved_searches,
    mail_outbox,
    index_changes,
    console_sessions,
    job_state,
    digest_runs,
    weekly_report_runs,
);
