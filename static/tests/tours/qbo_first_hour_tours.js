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
