/** @odoo-module **/
/**
 * A company-card expense sent from its form: the Send button, then the transfer state it shows.
 * The Python test (tests/test_qbo_expense_tour.py) then reads the Purchase back from QuickBooks.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("qbo_expense_send", {
    steps: () => [
        {
            content: "The expense is posted, not in QuickBooks yet: send it",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "The form says where it is now",
            trigger: ".o_form_view .alert-success:contains(In QuickBooks as Purchase)",
        },
        {
            content: "and the Send button is gone",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_qbo_send]))",
        },
    ],
});
