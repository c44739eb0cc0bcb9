/** @odoo-module **/
/**
 * Onboarding an existing QuickBooks company, through the screens: the dashboard, the match review
 * (a proposal confirmed) and the dry run. The Python test (tests/test_qbo_onboarding_tour.py) then
 * checks the link made and that nothing was written to QuickBooks by the dry run.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("qbo_tour_onboarding", {
    steps: () => [
        {
            content: "The dashboard shows the queue per document type",
            trigger: ".o_qbo_dashboard div[name=dash_queue_html] td:contains(Invoice)",
        },
        {
            content: "Open the match review",
            trigger: ".o_statusbar_buttons button[name=action_qbo_open_match_review]",
            run: "click",
        },
        {
            content: "Open the proposals",
            trigger: ".o_list_view .o_group_header:contains(Proposed)",
            run: "click",
        },
        {
            content: "Select the proposal",
            trigger: ".o_data_row:contains(Tour Brok Labs) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Confirm the link",
            trigger: "button[name=action_qbo_confirm]",
            run: "click",
        },
        {
            content: "Both customers are linked now",
            trigger: ".o_list_view .o_group_header:contains(Linked (2))",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "Dry run of everything queued",
            trigger: ".o_qbo_dashboard .o_statusbar_buttons button[name=action_qbo_dry_run]",
            run: "click",
        },
        {
            content: "The dry run says the invoice would be created",
            trigger: ".o_list_view .o_data_row:contains(Create) td[name=record_name]",
        },
    ],
});
