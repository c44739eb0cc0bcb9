/** @odoo-module **/
/**
 * Tours of a first-time setup, done through the screens an admin and an accountant use.
 *
 * Values that depend on the test run (the emulator's URL) are read from localStorage key
 * `qbo_tour_params`, written by the Python test before the tour starts. Each tour ends on a
 * visible confirmation; the Python test then checks what the database and QuickBooks (the
 * emulator) hold.
 */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function params() {
    return JSON.parse(window.localStorage.getItem("qbo_tour_params") || "{}");
}

/**
 * Pick `label` (value `value`) in the selection field `fieldName` under `scope`.
 *
 * Odoo 18 renders a selection field as a <select>; Odoo 19 as a SelectMenu (a button opening a
 * dropdown of items). The first step handles both; the second, only present on 19, clicks the item.
 */
function selectField(scope, fieldName, value, label) {
    const field = `${scope} div[name=${fieldName}]`;
    const steps = [
        {
            content: `${fieldName}: ${label}`,
            trigger: `${field} select, ${field} .o_select_menu_toggler`,
            async run(helpers) {
                if (this.anchor.tagName === "SELECT") {
                    await helpers.select(JSON.stringify(value));
                } else {
                    await helpers.click();
                }
            },
        },
    ];
    if (isOdoo19OrLater()) {
        steps.push({
            content: `${fieldName}: pick ${label}`,
            trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`,
            run: "click",
        });
    }
    return steps;
}

/**
 * Mark a step whose action leaves or reloads the page. Odoo 19 fails a tour whose page unloads
 * unannounced (and reloads the page after saving settings); Odoo 18 knows no such key.
 */
function unloadsPage(step) {
    return isOdoo19OrLater() ? { ...step, expectUnloadPage: true } : step;
}

function isOdoo19OrLater() {
    const major = String((odoo.info && odoo.info.server_version_info || [18])[0]).replace(/^saas~/, "");
    return parseFloat(major) >= 19;
}

const settingsReady = {
    content: "The QuickBooks Online block is on the settings page",
    trigger: "#qbo_connection",
};

function saveSettings() {
    return [
        unloadsPage({
            content: "Save the settings",
            trigger: ".o_control_panel .o_form_button_save",
            run(helpers) {
                // Mark the block: after the save the settings are loaded again, without the mark.
                document.getElementById("qbo_connection").classList.add("qbo_tour_before_save");
                return helpers.click();
            },
        }),
        {
            content: "Saved: the settings were loaded again from the database",
            trigger: "#qbo_connection:not(.qbo_tour_before_save)",
        },
    ];
}

/** Menus as a person clicks them: Invoicing (Accounting) > Configuration > QuickBooks > `entry`. */
function openQuickBooksMenu(entry, ready) {
    return [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the accounting app (Invoicing on Community, Accounting on Enterprise)",
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            run: "click",
        },
        {
            content: "Open the Configuration menu of the accounting app",
            trigger: ".o_menu_sections button.dropdown-toggle:contains(Configuration)",
            run: "click",
        },
        {
            content: `Open QuickBooks > ${entry}`,
            trigger: `.o-dropdown--menu .dropdown-item:contains(${entry})`,
            run: "click",
        },
        {
            // The app's own first screen (the invoices list, with its own New button) shows while
            // the chosen action loads: wait for a column only the chosen list has.
            content: `${entry} is displayed`,
            trigger: ready,
        },
    ];
}

// 1. Credentials and environment, saved; then Connect (the test approves on Intuit's page, i.e. the
//    emulator), back in Odoo with a notification; then Import and Test.
tours.add("qbo_tour_connect", {
    steps: () => [
        settingsReady,
        ...selectField("#qbo_connection", "qbo_environment", "custom", "Custom endpoint"),
        {
            content: "Type the endpoint URL",
            trigger: "div[name=qbo_custom_base_url] input",
            async run(helpers) {
                await helpers.edit(params().url);
            },
        },
        {
            content: "Type the Client ID",
            trigger: "div[name=qbo_client_id] input",
            async run(helpers) {
                await helpers.edit(params().client_id);
            },
        },
        {
            content: "Type the Client Secret",
            trigger: "div[name=qbo_client_secret] input",
            async run(helpers) {
                await helpers.edit(params().client_secret);
            },
        },
        ...saveSettings(),
        {
            content: "The Redirect URI can be copied",
            trigger: "div[name=qbo_redirect_uri] .o_clipboard_button",
        },
        unloadsPage({
            content: "Connect (leaves Odoo for Intuit's consent page)",
            trigger: "button[name=action_qbo_connect]:contains(Connect to QuickBooks)",
            run: "click",
        }),
        // Intuit's consent page (the emulator) is approved by the test; Odoo takes over again here.
        {
            content: "Back in Odoo: the notification says we are connected",
            trigger: ".o_notification:contains(QuickBooks Online connected)",
            timeout: 30000,
        },
        {
            content: "The settings show the connected state",
            trigger: "#qbo_connection .badge:contains(Connected)",
        },
        {
            content: "Import the reference data again",
            trigger: "button[name=action_qbo_import_references]",
            run: "click",
        },
        {
            content: "Import confirmed",
            trigger: ".o_notification:contains(QuickBooks reference data imported)",
        },
        {
            content: "Test the connection",
            trigger: "button[name=action_qbo_test]",
            run: "click",
        },
        {
            content: "Test summary, one fact per line",
            trigger: ".o_qbo_notification:contains(Connected to QuickBooks Online):contains(Class tracking)",
        },
    ],
});

// 2. Export settings: auto-send every 30 minutes, number prefix, error e-mails.
tours.add("qbo_tour_export_settings", {
    steps: () => [
        settingsReady,
        {
            content: "Send posted invoices automatically",
            trigger: "div[name=qbo_auto_send] input[type=checkbox]",
            run: "click",
        },
        {
            content: "Export every 30 minutes",
            trigger: "div[name=qbo_export_interval] input",
            run: "edit 30",
        },
        {
            content: "Invoice number prefix",
            trigger: "div[name=qbo_doc_number_prefix] input",
            run: "edit OD-",
        },
        {
            content: "Error e-mails",
            trigger: "div[name=qbo_error_emails] input",
            run: "edit accounting@example.com",
        },
        ...saveSettings(),
        {
            content: "The saved interval is shown again after the save",
            trigger: "div[name=qbo_export_interval] input:value(30)",
        },
    ],
});

// The labels of qbo.mapping's `mapping_type` (models/qbo_mapping.py), as the list shows them.
const MAPPING_TYPE_LABELS = {
    tax: "Tax",
    term: "Payment term",
    product: "Product",
    analytic: "Analytic account (Class)",
    payment_method: "Payment method (journal)",
    account: "Account (expenses, A/P)",
};

function newMappingRow(kind, odooSearch, qboSearch) {
    return [
        {
            content: `New ${kind} mapping`,
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        ...selectField(".o_selected_row", "mapping_type", kind, MAPPING_TYPE_LABELS[kind]),
        {
            content: `Odoo record: ${odooSearch}`,
            trigger: ".o_selected_row div[name=res_id] input",
            run: `edit ${odooSearch}`,
        },
        {
            content: `Pick ${odooSearch}`,
            trigger: `.o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item:contains(${odooSearch})`,
            run: "click",
        },
        {
            content: `QuickBooks object: ${qboSearch}`,
            trigger: ".o_selected_row div[name=qbo_ref_id] input",
            run: `edit ${qboSearch}`,
        },
        {
            content: `Pick ${qboSearch}`,
            trigger: `.o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item:contains(${qboSearch})`,
            run: "click",
        },
        {
            content: "Save the row",
            trigger: ".o_control_panel .o_list_button_save",
            run: "click",
        },
        {
            content: "Saved, shown as healthy",
            trigger: `.o_data_row:not(.o_selected_row):contains(${qboSearch}) .badge:contains(OK)`,
        },
    ];
}

// 3. One mapping of each kind, created in the Mappings list; then one edited.
tours.add("qbo_tour_mappings", {
    steps: () => [
        ...openQuickBooksMenu("Mappings", ".o_list_view th[data-name=mapping_type]"),
        { content: "Mappings list", trigger: ".o_list_view .o_list_button_add" },
        ...newMappingRow("term", "45 Days", "Net 45"),
        ...newMappingRow("product", "QBO Consulting", "Hours"),
        ...newMappingRow("analytic", "QBO Retail", "Retail"),
        ...newMappingRow("payment_method", "Bank", "Check"),
        {
            content: "Edit the product mapping",
            trigger: ".o_data_row:contains(QBO Consulting) td[name=qbo_ref_id]",
            run: "click",
        },
        {
            content: "Choose another QuickBooks item",
            trigger: ".o_selected_row div[name=qbo_ref_id] input",
            run: "edit Services",
        },
        {
            content: "Pick Services",
            trigger: ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item:contains(Services)",
            run: "click",
        },
        {
            content: "Save the edit",
            trigger: ".o_control_panel .o_list_button_save",
            run: "click",
        },
        {
            content: "The edit is saved",
            trigger: ".o_data_row:not(.o_selected_row):contains(QBO Consulting):contains(Services)",
        },
    ],
});

// 4. An invoice blocked by an unmapped tax: read why on the invoice, map the tax, send it.
tours.add("qbo_tour_fix_blocked_invoice", {
    steps: () => [
        {
            content: "The invoice says why it is blocked and where to fix it",
            trigger: ".alert-danger:contains(Blocked for QuickBooks):contains(QBO Tax 8%):contains(Mappings)",
        },
        ...openQuickBooksMenu("Mappings", ".o_list_view th[data-name=mapping_type]"),
        ...newMappingRow("tax", "QBO Tax 8%", "California"),
        {
            content: "Back to the invoices: Customers menu",
            trigger: ".o_menu_sections button.dropdown-toggle:contains(Customers)",
            run: "click",
        },
        {
            content: "Customers > Invoices",
            trigger: ".o-dropdown--menu .dropdown-item:contains(Invoices)",
            run: "click",
        },
        {
            content: "The invoice is queued again by itself: open it",
            trigger: ".o_data_row:contains(To send) td[name=name]",
            run: "click",
        },
        {
            content: "Queued again by itself once the mapping exists",
            trigger: ".alert-info:contains(Queued for QuickBooks)",
        },
        {
            content: "Send now",
            trigger: ".alert-info button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "Sent: the banner shows the QuickBooks number",
            trigger: ".alert-success:contains(In QuickBooks as)",
        },
    ],
});

// 5. Send from the invoice form.
tours.add("qbo_tour_send_from_form", {
    steps: () => [
        {
            content: "Send to QuickBooks",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "Notification: sent",
            trigger: ".o_notification:contains(Sent to QuickBooks)",
        },
        {
            content: "Banner: in QuickBooks",
            trigger: ".alert-success:contains(In QuickBooks as)",
        },
    ],
});

// 6. Send several invoices from the list (the server action in the Actions menu).
tours.add("qbo_tour_send_from_list", {
    steps: () => [
        {
            content: "Select every invoice of the list",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open the Actions menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Send to QuickBooks",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Send to QuickBooks)",
            run: "click",
        },
        {
            content: "The notification counts what was sent and what was already there",
            trigger: ".o_qbo_notification:contains(sent.)",
        },
    ],
});

// 7. A failed transfer: open it from Transfers and read what to do.
tours.add("qbo_tour_read_failed_transfer", {
    steps: () => [
        ...openQuickBooksMenu("Transfers", ".o_list_view th[data-name=record_name]"),
        {
            content: "Open the failed transfer",
            trigger: ".o_data_row:contains(Error) td[name=record_name]",
            run: "click",
        },
        {
            content: "The advice says what to do, then what QuickBooks said",
            trigger: ".o_form_view .alert-danger:contains(QuickBooks said):contains(then retry)",
        },
        ...openQuickBooksMenu("Transfer history", ".o_list_view th[data-name=operation]"),
        {
            content: "Open the failed call",
            trigger: ".o_data_row.text-danger td[name=operation]",
            run: "click",
        },
        {
            content: "Its advice",
            trigger: ".o_form_view .alert-info:contains(What to do)",
        },
    ],
});

// 8. Disconnect, confirm, and see it said.
tours.add("qbo_tour_disconnect", {
    steps: () => [
        settingsReady,
        {
            content: "Disconnect",
            trigger: "button[name=action_qbo_disconnect]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Notification: disconnected",
            trigger: ".o_notification:contains(Disconnected from QuickBooks Online)",
        },
        {
            content: "The block says not connected",
            trigger: "#qbo_connection .badge:contains(Not connected)",
        },
    ],
});

// Payables: map an expense account, send a vendor bill of three lines from its form.
tours.add("qbo_tour_payables_send_bill", {
    steps: () => [
        ...openQuickBooksMenu("Mappings", ".o_list_view th[data-name=mapping_type]"),
        ...newMappingRow("account", "Tour consulting", "Subcontractors"),
        {
            content: "Back to the vendor bills: Vendors menu",
            trigger: ".o_menu_sections button.dropdown-toggle:contains(Vendors)",
            run: "click",
        },
        {
            content: "Vendors > Bills",
            trigger: ".o-dropdown--menu .dropdown-item:contains(Bills)",
            run: "click",
        },
        {
            content: "Open the tour's bill",
            trigger: ".o_data_row:contains(Tour Vendor) td[name=invoice_partner_display_name]",
            run: "click",
        },
        {
            content: "Send to QuickBooks",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "Banner: in QuickBooks",
            trigger: ".alert-success:contains(In QuickBooks as)",
        },
    ],
});

// Payables: the bill paid in QuickBooks shows paid in Odoo.
tours.add("qbo_tour_payables_bill_paid", {
    steps: () => [
        {
            content: "The bill is paid (the payment recorded in QuickBooks came back)",
            trigger: ".o_form_view .ribbon:contains(Paid), .o_form_view .ribbon:contains(In Payment)",
        },
    ],
});
