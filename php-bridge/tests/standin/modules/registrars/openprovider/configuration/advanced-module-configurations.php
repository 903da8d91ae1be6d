<?php

/**
 * STAND-IN for the Openprovider module's advanced configuration, for tests only, laid out
 * as module 5.13 ships it (../shared/DOMAIN.md, "Inside WHMCS"): a PHP file that first asks
 * WHMCS for its PremiumDomains setting behind a class_exists guard, then returns the array.
 * Only the keys DOMAIN.md names are here, with the values the module ships; the real file
 * holds more (DNS, trustee, TLD lists) that no sync reads. Tests write their own.
 */

// The real file computes a premium-domains flag from this; no sync key depends on it.
$premium = null;
if (class_exists('\WHMCS\Config\Setting')) {
    try {
        $premium = \WHMCS\Config\Setting::getValue('PremiumDomains');
    } catch (\Throwable $e) {
        // The real file computes a premium-domains flag from this; no sync key depends on it.
        $premium = null;
    }
}

return [
    'api_url' => 'https://api.openprovider.eu',
    'restapi_url_sandbox' => 'http://api.sandbox.openprovider.nl:8480',
    'renewTldsUponTransferCompletion' => '',
    'syncAutoRenewSetting' => true,
    'syncIdentityProtectionToggle' => true,
    'syncUseNativeWHMCS' => true,
    'syncDomainStatus' => true,
    'syncExpiryDate' => true,
    'updateNextDueDate' => true,
    'nextDueDateOffset' => 14,
    'nextDueDateUpdateMaxDayDifference' => 100,
    'updateInterval' => 2,
    'domainProcessingLimit' => 200,
    'sendEmptyActivityEmail' => false,
    'renewalDateSync' => true,
];
