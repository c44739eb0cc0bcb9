/** @odoo-module **/
/**
 * Where Intuit's OAuth callback lands after a successful consent.
 *
 * The controller cannot show a notification itself (it answers with a redirect), so it sends the
 * browser here: ask the server how the connection stands, show that as a notification, then open
 * the settings on the QuickBooks Online block, where the admin clicked Connect.
 */
import { registry } from "@web/core/registry";

const SETTING_ID = "qbo_connection";

function scrollToQuickBooks(attempt = 0) {
    const el = document.getElementById(SETTING_ID);
    if (el) {
        el.scrollIntoView({ block: "center" });
    } else if (attempt < 50) {
        setTimeout(() => scrollToQuickBooks(attempt + 1), 100);
    }
}

async function qboConnectDone(env) {
    const feedback = await env.services.orm.call("qbo.connection", "qbo_connect_feedback", []);
    env.services.notification.add(feedback.message, {
        title: feedback.title,
        type: feedback.type,
        sticky: feedback.type !== "success",
        className: "o_qbo_notification",
    });
    await env.services.action.doAction("account.action_account_config", { clearBreadcrumbs: true });
    scrollToQuickBooks();
}

registry.category("actions").add("quickbooks_online.connect_done", qboConnectDone);
