/** @odoo-module **/
/**
 * The reconciliation, through the screens: opened from the dashboard, an invoice missing in QuickBooks
 * sent by its line's button, the run repeated until nothing differs, then its amounts per partner and month.
 * The Python test (tests/test_qbo_reconciliation.py, TestQboReconciliationTour) then reads QuickBooks back.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("qbo_tour_reconciliation", {
    steps: () => [
        {
            content: "Open the reconciliation from the dashboard",
            trigger: ".o_qbo_dashboard .o_statusbar_buttons button[name=action_qbo_reconcile]",
            run: "click",
        },
        {
            content: "The aging reports agree with the mirror",
            trigger: ".o_qbo_reconciliation div[name=report_check] .text-success",
        },
        {
            content: "The invoice never sent is missing in QuickBooks",
            trigger: ".o_qbo_reconciliation .o_data_row:contains(Missing in QuickBooks)",
        },
        {
            content: "Send it again from its line",
            trigger: ".o_qbo_reconciliation .o_data_row:contains(Missing in QuickBooks) button[name=action_qbo_fix]",
            run: "click",
        },
        {
            content: "The line says it was sent",
            trigger: ".o_qbo_reconciliation .o_data_row:contains(Sent as QuickBooks Id)",
        },
        {
            content: "Run the reconciliation again",
            trigger: ".o_qbo_reconciliation .o_statusbar_buttons button[name=action_qbo_rerun]",
            run: "click",
        },
        {
            // The first run's form counts 0 too once its line is fixed, and keeps that fixed line: wait for the
            // new run, whose list of documents is empty, or the next steps act on the form being replaced.
            content: "The new run is shown: no document differs",
            trigger: ".o_qbo_reconciliation div[name=document_ids]:not(:has(.o_data_row))",
        },
        {
            content: "Nothing differs any more",
            trigger: ".o_qbo_reconciliation button[name=action_qbo_open_documents] .o_stat_value:contains(0)",
        },
        {
            // The page's name (a[name] of the notebook's tab, on 18.0 and 19.0), not its translatable title.
            content: "Open the amounts per partner and month",
            trigger: ".o_qbo_reconciliation .o_notebook .nav-link[name=lines]",
            run: "click",
        },
        {
            content: "The customer's month is there, with no difference",
            trigger: ".o_qbo_reconciliation div[name=line_ids] .o_data_row:contains(Tour Heron Fittings)",
        },
    ],
});
