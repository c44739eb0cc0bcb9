/** @odoo-module **/
/**
 * The reconciliation, through the screens: opened from the dashboard, an invoice missing in QuickBooks
 * sent by its line's button, the run repeated until nothing differs. The Python test
 * (tests/test_qbo_reconciliation.py, TestQboReconciliationTour) then reads QuickBooks back.
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
            content: "Nothing differs any more",
            trigger: ".o_qbo_reconciliation button[name=action_qbo_open_documents] .o_stat_value:contains(0)",
        },
    ],
});
