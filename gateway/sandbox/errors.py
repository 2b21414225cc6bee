"""Kintone error responses: codes, HTTP statuses and localised messages.

Every failure inside the sandbox is raised as a ``KintoneError`` and rendered by the web layer
as Kintone's JSON error body ``{code, id, message[, errors]}`` with the matching HTTP status.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

# code -> (HTTP status, English message, Japanese message); ``{}`` placeholders take args.
CATALOG: dict[str, tuple[int, str, str]] = {
    "CB_VA01": (400, "Missing or invalid input.", "入力内容が正しくありません。"),
    "CB_IJ01": (400, "Invalid JSON string.", "不正なJSON文字列です。"),
    "CB_IL02": (400, "Illegal request.", "不正なリクエストです。"),
    "CB_AU01": (401, "Please login.", "ログインしてください。"),
    "CB_WA01": (
        401,
        "Password authentication failed. The value in http header of X-Cybozu-Authorization "
        "is not valid.",
        "ユーザーのパスワード認証に失敗しました。「X-Cybozu-Authorization」ヘッダーの値が正しくありません。",
    ),
    "CB_NO02": (403, "No privilege to proceed.", "権限がありません。"),
    "CB_NO01": (404, "The requested API does not exist.", "指定したAPIは存在しません。"),
    "GAIA_IA02": (
        400,
        "The specified API token does not match the API token generated via an app.",
        "指定したAPIトークンは、アプリで生成されたトークンと異なります。"
        "アプリのAPIトークンの設定を確認してください。"
        "設定が正しい場合、APIトークンの設定がアプリに反映されていない場合があります。"
        "アプリの設定を更新し、APIトークンの設定をアプリに反映します。",
    ),
    "GAIA_NO01": (
        403,
        "Using this API token, you cannot run the specified API.",
        "このAPIトークンでは、指定したAPIを実行できません。",
    ),
    "GAIA_DA03": (
        400,
        "You cannot specify a duplicate API token for the same app.",
        "同じアプリのAPIトークンを複数指定することはできません。",
    ),
    "GAIA_AP01": (
        404,
        "The app (ID: {}) not found. The app may have been deleted.",
        "指定したアプリ（id: {}）が見つかりません。削除されている可能性があります。",
    ),
    "GAIA_RE01": (
        404,
        "The specified record (ID: {}) is not found.",
        "指定したレコード（id: {}）が見つかりません。",
    ),
    "GAIA_RE02": (
        400,
        "The specified comment does not exist. The comment may have been deleted.",
        "指定したコメントが存在しません。削除された可能性があります。",
    ),
    "GAIA_RE03": (
        400,
        "You cannot delete a comment posted by another user.",
        "ほかのユーザーが投稿したコメントは削除できません。",
    ),
    "GAIA_RE12": (
        400,
        "Comments are disabled in the app settings.",
        "アプリの設定でコメント機能が無効になっています。",
    ),
    "GAIA_RE20": (
        400,
        'No records match the conditions specified in the "updateKey" field.',
        "updateKeyに指定した条件に一致するレコードが存在しません。",
    ),
    "GAIA_IQ27": (
        400,
        'The field specified in "updateKey" must be set to "Prohibit duplicate values".',
        "updateKeyに指定したフィールドは「値の重複を禁止する」に設定されている必要があります。",
    ),
    "GAIA_CO02": (
        409,
        "The revision is not the latest. Someone may update a record.",
        "指定したrevisionは最新ではありません。ほかのユーザーがレコードを更新した可能性があります。",
    ),
    "GAIA_CO03": (
        409,
        "The revision is not the latest. Someone may update app settings.",
        "指定したrevisionは最新ではありません。ほかのユーザーがアプリの設定を更新した可能性があります。",
    ),
    "GAIA_UN10": (
        400,
        "You cannot set a value for the field of type {}.",
        "{}型のフィールドに値を設定することはできません。",
    ),
    "GA_UO01": (
        400,
        "The following operation is not allowed via API: editing category values",
        "APIでは次の操作はできません：カテゴリーの値の編集",
    ),
    "GAIA_BF02": (
        400,
        "Only app administrators can set the creator, created datetime, updater or updated "
        "datetime.",
        "作成者、作成日時、更新者、更新日時を設定できるのはアプリ管理者だけです。",
    ),
    "GAIA_LO04": (
        400,
        "A value {} in the field {} does not exist in the datasource app for lookup, or you do "
        "not have permission to view the app or the field.",
        "フィールド「{1}」の値「{0}」が、ルックアップの参照先のフィールドにないか、"
        "またはアプリやフィールドの閲覧権限がありません。",
    ),
    "GAIA_QU01": (400, "limit must be 500 or less.", "limit には 500 以下の値を指定してください。"),
    "GAIA_QU02": (
        400,
        "offset must be 10,000 or less.",
        "offset には 10,000 以下の値を指定してください。",
    ),
    "GAIA_IQ11": (
        400,
        "Specified field ({}) not found.",
        "指定されたフィールド（{}）が見つかりません。",
    ),
    "GAIA_IQ03": (
        400,
        "The operator {1} cannot be used for the field type of the {0} field.",
        "{0}フィールドのフィールドタイプには演算子{1}を使用できません。",
    ),
    "GAIA_IQ07": (
        400,
        "When the {} field is in a table, the operator = cannot be used for its field type.",
        "テーブルに設定している場合、{}フィールドのフィールドタイプには、演算子=を使用できません。",
    ),
    "GAIA_IQ10": (
        400,
        'The value "{}" is not an option of the {} field.',
        "{1}フィールドの選択肢に「{0}」はありません。",
    ),
    "GAIA_IQ23": (
        400,
        "The specified day ({}) is invalid. Specify an integer from 1 to 31.",
        "指定した日にち（{}）は無効です。1から31までの整数で指定します。",
    ),
    "GAIA_IQ25": (
        400,
        'Specify "DAYS", "WEEKS", "MONTHS" or "YEARS" as the second argument of FROM_TODAY().',
        "FROM_TODAY()の第2引数には、「DAYS」「WEEKS」「MONTHS」「YEARS」のいずれかを指定します。",
    ),
    "GAIA_IL08": (400, "The query is invalid.", "クエリの指定が不正です。"),
    "GAIA_IR02": (
        400,
        "The field ({}) is not a related records field.",
        "フィールド（{}）は関連レコード一覧ではありません。",
    ),
    "GAIA_BL01": (
        404,
        "The specified file (id: {}) not found.",
        "指定したファイル（id: {}）が見つかりません。",
    ),
    "GAIA_CN01": (
        404,
        "The specified cursor does not exist or has already expired.",
        "指定したカーソルは存在しないか、既に有効期限が切れています。",
    ),
    "GAIA_TM12": (
        429,
        "The cursor cannot be created because the maximum number of cursors has been reached. "
        "Delete unnecessary cursors or try again later.",
        "作成できるカーソルの上限に達しているため、カーソルを作成できません。"
        "不要なカーソルを削除するか、しばらく経ってから再実行してください。",
    ),
    "GAIA_TO04": (
        429,
        "The number of concurrent API requests exceeds the limit.",
        "同時に実行できるAPIリクエストの上限を超えています。",
    ),
    "GAIA_IL23": (
        400,
        "When you operate an app in a guest space, please send the request to "
        "'/k/guest/(guest space ID)/v1/...'.",
        "ゲストスペース内のアプリを操作する場合は、リクエストの送信先を"
        "「/k/guest/（ゲストスペースのID）/v1/...」にします。",
    ),
    "GAIA_IL03": (
        400,
        "Failed to update the status. The settings or the status itself may have been changed "
        "by someone.",
        "ステータスの変更に失敗しました。ほかのユーザーがステータス、"
        "またはステータスの設定を変更した可能性があります。",
    ),
    "GAIA_ST02": (
        400,
        "Your request failed. The process management feature has been disabled.",
        "操作に失敗しました。プロセス管理機能が無効化されています。",
    ),
    "GAIA_SA01": (
        400,
        "Assignee is required.",
        "作業者を指定してください。",
    ),
    "GAIA_SA04": (
        400,
        "The specified user cannot be the assignee of the next status.",
        "指定したユーザーは次のステータスの作業者に設定できません。",
    ),
    "GAIA_NT01": (
        403,
        "Only the assignee of the current status can perform this action.",
        "現在のステータスの作業者のみが実行できるアクションです。",
    ),
    "GAIA_IL26": (
        400,
        "The specified user ({}) for the mention does not exist or is inactive.",
        "メンションに指定したユーザー（{}）が存在しないか、無効です。",
    ),
    "GAIA_FC01": (
        400,
        "The specified field (code: {}) is not found.",
        "指定されたフィールド（code: {}）が見つかりません。",
    ),
    "GAIA_SP01": (
        404,
        "The space (id: {}) not found.",
        "指定したスペース（id: {}）が見つかりません。",
    ),
    "GAIA_DA02": (
        409,
        "Failed to save changes because the database could not be locked. Please try again "
        "later.",
        "データベースのロックに失敗したため、変更を保存できませんでした。時間をおいて再度お試しください。",
    ),
    "GAIA_IL01": (400, "The formula of the field ({}) is invalid.", "計算式（{}）が不正です。"),
    "CB_UN01": (503, "Service unavailable. Please try again later.", "現在ご利用になれません。"),
    "GAIA_IL44": (
        400,
        "The view for the assignee of process management cannot be deleted.",
        "プロセス管理の作業者用の一覧は削除できません。",
    ),
}

_ID_ALPHABET = string.ascii_letters + string.digits


def error_id() -> str:
    """An opaque per-request error id, shaped like real Kintone's (20 URL-safe characters)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


@dataclass(frozen=True)
class Message:
    """A validation message put into words only when the error is rendered: raised where the
    caller's language is not known yet (request parameters), it still speaks it."""

    key: str
    args: tuple = ()

    def text(self, lang: str) -> str:
        return message(self.key, lang, *self.args)


@dataclass
class KintoneError(Exception):
    """A Kintone API error. ``errors`` maps error keys to message lists (validation errors)."""

    code: str
    args_: tuple = ()
    errors: dict[str, list[str | Message]] | None = None
    status: int | None = None
    message: str | None = None
    body: dict | None = None  # a ready-made error body (bulkRequest's per-request "results")

    def __post_init__(self) -> None:
        super().__init__(self.code)

    @property
    def http_status(self) -> int:
        return self.status or CATALOG.get(self.code, (400,))[0]

    def render(self, lang: str = "en") -> dict:
        if self.body is not None:
            return self.body
        body = {"code": self.code, "id": error_id(), "message": self.text(lang)}
        if self.errors:
            body["errors"] = {key: {"messages": [_text(msg, lang) for msg in msgs]}
                              for key, msgs in self.errors.items()}
        return body

    def text(self, lang: str = "en") -> str:
        if self.message is not None:
            return self.message
        _, en, ja = CATALOG.get(self.code, (400, self.code, self.code))
        template = ja if lang == "ja" else en
        return template.format(*self.args_) if self.args_ else template.replace("{}", "")


def _text(msg: str | Message, lang: str) -> str:
    return msg if isinstance(msg, str) else msg.text(lang)


# Validation messages (errors map), English and Japanese, as observed on real Kintone.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("Required.", "必須です。"),
    "required_param": ("Required field.", "必須です。"),
    "unique": (
        "This value already exists in another record.",
        "値がほかのレコードと重複しています。",
    ),
    "max_length": ("Enter less than {} characters.", "{}文字より短くなければなりません。"),
    "min_length": ("Enter more than {} characters.", "{}文字より長くなければなりません。"),
    "max_value": ("The value must be {} or less.", "{}以下である必要があります。"),
    "min_value": ("The value must be {} or more.", "{}以上である必要があります。"),
    "not_number": ("Only numbers are allowed.", "数字でなければなりません。"),
    "not_option": ('The value, "{}", is not in options.', '"{}"は選択肢にありません。'),
    "precision": ("The number of significant digits is exceeded.", "有効桁数を超えています。"),
    "min_one": ("must be greater than or equal to 1", "最小でも1以上です。"),
    "min_zero": ("must be greater than or equal to 0", "最小でも0以上です。"),
    "min_revision": ("must be greater than or equal to -1", "最小でも-1以上です。"),
    "enum": ("must be one of the enum value", "Enum値のいずれかでなければなりません。"),
    "max_add": (
        "A maximum of 100 records can be added at one time.",
        "一度に100件までのレコードを追加できます。",
    ),
    "max_update": (
        "A maximum of 100 records can be updated at one time.",
        "一度に100件までのレコードを更新できます。",
    ),
    "delete_range": (
        "Between 1 and 100 records can be deleted at one time.",
        "一度に1件から100件までのレコードを削除できます。",
    ),
    "max_le": ("must be less than or equal to {}", "最大でも{}以下です。"),
    "size_range": ("size must be between {} and {}", "サイズは{}から{}の間でなければなりません。"),
    "query_syntax": ("The query syntax is incorrect.", "クエリ記法が間違っています。"),
    "not_integer": ("must be an integer", "整数でなければなりません。"),
    "invalid_date": ("Invalid date format.", "日付の形式が不正です。"),
    "invalid_time": ("Invalid time format.", "時刻の形式が不正です。"),
    "invalid_datetime": ("Invalid datetime format.", "日時の形式が不正です。"),
    "invalid_url": ("Invalid URL format.", "URLの形式が正しくありません。"),
    "invalid_user": ("The user ({}) does not exist.", "ユーザー（{}）が存在しません。"),
    "invalid_org": ("The organization ({}) does not exist.", "組織（{}）が存在しません。"),
    "invalid_group": ("The group ({}) does not exist.", "グループ（{}）が存在しません。"),
    "invalid_file": ("The file key ({}) is invalid.", "ファイルキー（{}）が不正です。"),
    "bulk_api": (
        "This API cannot be used in a bulk request.",
        "このAPIは一括リクエストでは使用できません。",
    ),
    "bulk_space": (
        "All requests must target the space of the bulk request's own URL.",
        "すべてのリクエストは一括リクエストのURLと同じスペースを指定する必要があります。",
    ),
    "both_id_and_key": (
        "Specify either id or updateKey.",
        "idとupdateKeyのどちらか一方を指定してください。",
    ),
    # App administration (fields, layout, views, settings, process management).
    "duplicate_code": ("The field code is duplicated.", "フィールドコードが重複しています。"),
    "invalid_code": (
        "The field code can contain only letters, digits and _, and cannot start with a digit.",
        "フィールドコードには文字、数字、_のみ使用でき、数字で始めることはできません。",
    ),
    "code_mismatch": (
        "The field code must be the same as its key.",
        "フィールドコードにはキーと同じ値を指定してください。",
    ),
    "type_change": ("The field type cannot be changed.", "フィールドタイプは変更できません。"),
    "invalid_value": ("The value is invalid.", "値が不正です。"),
    "unknown_field": ("The field ({}) does not exist.", "フィールド（{}）が存在しません。"),
    "not_removable": ("This field cannot be deleted.", "このフィールドは削除できません。"),
    "scale_range": ("must be between 0 and 10", "0から10の間でなければなりません。"),
    "layout_missing": (
        "The field ({}) must be placed in the layout.",
        "フィールド（{}）をレイアウトに配置してください。",
    ),
    "layout_duplicate": (
        "The field ({}) is placed more than once.",
        "フィールド（{}）が複数回配置されています。",
    ),
    "name_mismatch": (
        "The name must be the same as its key.",
        "名前にはキーと同じ値を指定してください。",
    ),
    "unknown_state": ("The status ({}) does not exist.", "ステータス（{}）が存在しません。"),
    "first_state_type": (
        "The assignee of the first status must be one user.",
        "最初のステータスの作業者は1人でなければなりません。",
    ),
    "first_state_entity": (
        "The assignee of the first status can only be the user who created the record.",
        "最初のステータスの作業者には、レコードを作成したユーザーのみを設定できます。",
    ),
    "length_range": ("size must be between {} and {}", "{}文字から{}文字の間で指定してください。"),
}


def message(key: str, lang: str = "en", *args: object) -> str:
    en, ja = MESSAGES[key]
    template = ja if lang == "ja" else en
    return template.format(*args) if args else template


@dataclass
class Problems:
    """Collects validation errors of one request, so they are reported together (CB_VA01)."""

    lang: str = "en"
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, msg_key: str, *args: object) -> None:
        self.errors.setdefault(key, []).append(message(msg_key, self.lang, *args))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise KintoneError("CB_VA01", errors=self.errors)


def invalid(key: str, msg_key: str, *args: object) -> KintoneError:
    """A single-parameter CB_VA01 error, in the language of the request it answers."""
    return KintoneError("CB_VA01", errors={key: [Message(msg_key, args)]})
