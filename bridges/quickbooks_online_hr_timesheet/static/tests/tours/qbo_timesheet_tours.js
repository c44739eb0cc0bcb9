/** @odoo-module **/
/**
 * A timesheet line sent from its form: the Send button, then the transfer state it shows.
 * The Python test (tests/test_qbo_timesheet_tour.py) then reads the time activity back from QuickBooks.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("qbo_timesheet_send", {
    steps: () => [
        {
            content: "The line is not in QuickBooks yet: send it",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "The form says where it is now",
            trigger: ".o_form_view .alert-success:contains(In QuickBooks as time activity)",
        },
        {
            content: "and the Send button is gone",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_qbo_send]))",
        },
    ],
});
