/** @odoo-module **/
/**
 * Screens of issue 24 ("The first hour"): what a new admin and accountant see when something is wrong.
 * The Python tests (tests/test_qbo_first_hour.py, TestQboFirstHourScreens) prepare the data through the
 * connector itself, open the screen and check afterwards.
 */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

function refuse(selector, text, why) {
    return {
        content: why,
        trigger: "body",
        run() {
            const hits = [...document.querySelectorAll(selector)].filter((el) => el.textContent.trim() === text);
            if (hits.length) {
                throw new Error(`${why}: "${text}" is shown`);
            }
        },
    };
}

function isOdoo19OrLater() {
    const major = String((odoo.info && odoo.info.server_version_info || [18])[0]).replace(/^saas~/, "");
    return parseFloat(major) >= 19;
}

// The kind of the mapping row being edited (a <select> on 18.0, a select menu on 19.0).
function selectKind(label) {
    const field = ".o_selected_row div[name=mapping_type]";
    const steps = [{
        content: `Kind: ${label}`,
        trigger: `${field} select, ${field} .o_select_menu_toggler`,
        async run(helpers) {
            if (this.anchor.tagName === "SELECT") {
                const option = [...this.anchor.options].find((o) => o.textContent.trim() === label);
                await helpers.select(option.value);
            } else {
                await helpers.click();
            }
        },
    }];
    if (isOdoo19OrLater()) {
        steps.push({
            content: `Kind: pick ${label}`,
            trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`,
            run: "click",
        });
    }
    return steps;
}

// Mappings: a tax mapped to a code of another rate is flagged on its row, a new row has no red badge.
tours.add("qbo_tour_first_hour_mappings", {
    steps: () => [
        {
            content: "The row of the 15 % tax mapped to Tucson (9.1 %) says the rates differ",
            trigger: ".o_data_row:contains(Sales 15%) td[name=rate_warning]:contains(9.1%)",
        },
        {
            content: "Add a row",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "The new row is being edited",
            trigger: ".o_data_row.o_selected_row",
        },
        refuse(".o_data_row.o_selected_row td[name=health] .badge", "Missing or inactive in QuickBooks",
               "no red badge before anything is chosen"),
        {
            content: "One 'Odoo record' column for every kind, not one mostly empty column per kind",
            trigger: ".o_list_view th[data-name=res_id]",
            run() {
                const perKind = ["tax_id", "term_id", "product_id", "analytic_id", "journal_id", "account_id"]
                    .filter((name) => document.querySelector(`.o_list_view th[data-name=${name}]`));
                if (perKind.length) {
                    throw new Error(`per-kind columns shown: ${perKind.join(", ")}`);
                }
            },
        },
        ...selectKind("Payment term"),
        {
            content: "The Odoo record column searches the kind's records: payment terms",
            trigger: ".o_selected_row div[name=res_id] input",
            run: "edit Days",
        },
        {
            content: "Odoo's 30 Days term is proposed",
            trigger: ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item:contains(30 Days)",
        },
        refuse(".o_data_row.o_selected_row td[name=health] .badge", "Missing or inactive in QuickBooks",
               "still no red badge while choosing"),
        {
            content: "Discard the new row",
            trigger: ".o_list_button_discard",
            run: "click",
        },
    ],
});

// An invoice whose send met refused credentials: the form says reconnect, not "queued, nothing to do".
tours.add("qbo_tour_first_hour_reconnect_invoice", {
    steps: () => [
        {
            content: "The form says an administrator must reconnect",
            trigger: ".o_qbo_reconnect:contains(Reconnect QuickBooks Online)",
        },
        refuse(".alert-info span", "Queued for QuickBooks.", "the plain 'queued' banner is not shown"),
    ],
});

// Settings after refused credentials: the red badge, the reason, never the green Connected badge.
tours.add("qbo_tour_first_hour_reconnect_settings", {
    steps: () => [
        {
            content: "Reconnection needed",
            trigger: ".badge.text-bg-danger:contains(Reconnection needed)",
        },
        {
            content: "The reason is shown, saying what to do",
            trigger: ".text-danger:contains(invalid_client):contains(reconnect)",
        },
        refuse(".badge", "Connected", "no green Connected badge next to a credentials error"),
        {
            content: "The Redirect URI is shown whole, not cut with an ellipsis",
            trigger: "body",
            run() {
                const wrap = document.querySelector(".o_qbo_wrap");
                const text = wrap && [wrap, ...wrap.querySelectorAll("*")].find(
                    (el) => !el.children.length && (el.textContent || el.value || "").includes("oauth/callback"));
                if (!text || getComputedStyle(text).whiteSpace === "nowrap") {
                    throw new Error(`the Redirect URI is cut: ${wrap ? wrap.outerHTML.slice(0, 600) : "no field"}`);
                }
            },
        },
    ],
});

// An invoice never sent: the form has a QuickBooks status before any send.
tours.add("qbo_tour_first_hour_not_sent", {
    steps: () => [
        {
            content: "The form says the invoice is not in QuickBooks yet",
            trigger: ".o_qbo_not_sent:contains(Not in QuickBooks yet)",
        },
    ],
});

// An invoice already in QuickBooks, edited and posted again: "Send now" updates it, and the form says so at once.
tours.add("qbo_tour_first_hour_update_invoice", {
    steps: () => [
        {
            content: "The edited invoice is queued for an update",
            trigger: ".alert-info:contains(Queued for QuickBooks) button[name=action_qbo_send]",
            run: "click",
        },
        {
            content: "The toast counts the one invoice chosen (not its customer too)",
            trigger: ".o_qbo_notification:contains(1 sent.)",
        },
        {
            content: "Without reloading: the form says it is in QuickBooks",
            trigger: ".alert-success:contains(In QuickBooks as)",
        },
        refuse(".alert-info span", "Queued for QuickBooks.", "no stale 'Queued' banner after the update went out"),
        {
            content: "The chatter says the invoice was updated, not sent again",
            trigger: ".o-mail-Message-body:contains(Updated in QuickBooks: Invoice)",
        },
    ],
});

// Transfers: whole headers, the amounts, and from a transfer to its HTTP calls (Transfer history).
tours.add("qbo_tour_first_hour_transfers", {
    steps: () => [
        {
            content: "Show every transfer, not only the failed ones",
            trigger: ".o_searchview_facet:contains(Errors) .o_facet_remove",
            run: "click",
        },
        {
            content: "The transfers list",
            trigger: ".o_list_view .o_data_row:contains(INV/)",
        },
        {
            content: "No column header is cut",
            trigger: ".o_list_view thead th[data-name=qbo_total]",
            run() {
                const labels = [...document.querySelectorAll(".o_list_view thead th[data-name] .text-truncate")];
                if (labels.length < 8) {
                    throw new Error(`headers not found (${labels.length})`);
                }
                const cut = labels.filter((el) => el.scrollWidth > el.clientWidth + 1)
                    .map((el) => el.textContent.trim());
                if (cut.length) {
                    throw new Error(`headers cut: ${cut.join(", ")}`);
                }
            },
        },
        {
            content: "The invoice's row shows its amounts in Odoo and in QuickBooks",
            trigger: ".o_data_row:contains(INV/) td[name=odoo_total]:contains(108.00)",
        },
        {
            content: "... and in QuickBooks",
            trigger: ".o_data_row:contains(INV/) td[name=qbo_total]:contains(108.00)",
        },
        {
            content: "Its HTTP calls, from the row",
            trigger: ".o_data_row:contains(INV/) button[name=action_qbo_open_calls]",
            run: "click",
        },
        {
            content: "The Transfer history of this invoice: its create call",
            trigger: ".o_list_view .o_data_row td[name=operation]:contains(create)",
        },
        {
            content: "Only this invoice's calls",
            trigger: ".o_list_view .o_data_row",
            run() {
                const names = [...document.querySelectorAll(".o_data_row td[name=record_name]")]
                    .map((td) => td.textContent.trim());
                if (!names.length || names.some((name) => !name.startsWith("INV"))) {
                    throw new Error(`calls of other records: ${names.join(", ")}`);
                }
            },
        },
    ],
});

// Automatic sending: a posted invoice waits for the export job, and the form says until about when.
tours.add("qbo_tour_first_hour_next_run", {
    steps: () => [
        {
            content: "Queued, with the scheduler's next run as an estimate",
            trigger: ".alert-info:contains(Queued for QuickBooks):contains(The scheduler sends it at its next run, around)"
                + " div[name=qbo_next_export]",
            run() {
                if (!/\d/.test(this.anchor.textContent)) {
                    throw new Error(`no time shown: "${this.anchor.textContent}"`);
                }
            },
        },
    ],
});
