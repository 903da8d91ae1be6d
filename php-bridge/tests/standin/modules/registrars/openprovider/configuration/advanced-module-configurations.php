<?php

/**
 * STAND-IN for the Openprovider module's advanced configuration, for tests only: the keys
 * its sync reads, with the values the module ships with. Tests write their own.
 */

return [
    'api_url' => 'https://api.openprovider.eu',
    'restapi_url_sandbox' => 'https://api.cte.openprovider.eu',
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
