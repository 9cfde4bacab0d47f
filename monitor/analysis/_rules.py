"""The transparent rule layer of the identity classifier.

Every occurrence of a known name (see ``_aliases``) gets a role from its sentence:

- ``name``      a first-person identity claim: "I am ChatGPT", "我是通义千问", "Je suis Claude"
- ``creator``   a first-person maker claim: "I was trained by OpenAI", "我是由深度求索开发的"
- ``base``      "I'm based on / powered by GPT-4": a claim about the underlying model
- ``negated``   "I'm not ChatGPT", "no fui creado por OpenAI", "我不是ChatGPT"
- ``compared``  "unlike GPT-4, I ...", "与ChatGPT不同", "a diferencia de Claude"
- ``mention``   anything else: "ChatGPT is made by OpenAI", "the user asks if I'm ChatGPT"

A specific identity the table does not know ("My name is Aria", "created by Opera Labs") is an
``unknown`` claim and counts for the ``other`` label. The verdict is the first name claim (else the
first maker claim, else an unknown claim, else a base claim), with the sentence span that decided.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from monitor.analysis._aliases import Aliases, AliasHit
from monitor.analysis._structure import named_unknowns, place_unplaced

__all__ = ["ROLES", "Role", "RoleHit", "RuleResult", "apply_rules", "normalize_text"]

Role = Literal["name", "creator", "base", "negated", "compared", "mention"]
ROLES: tuple[Role, ...] = ("name", "creator", "base", "negated", "compared", "mention")
Strength = Literal["strong", "mixed", "weak", "none"]


@dataclass(frozen=True)
class RoleHit:
    """One name occurrence and the role its sentence gives it."""

    hit: AliasHit
    role: Role
    evidence: str


@dataclass(frozen=True)
class RuleResult:
    """The rule layer's verdict on one text, with everything it saw."""

    label: str | None
    strength: Strength
    evidence: str | None
    roles: tuple[RoleHit, ...] = ()
    unknown_claims: tuple[str, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)


def normalize_text(text: str) -> str:
    """NFKC, straight quotes, no markdown emphasis: the surface the patterns are written for."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\*\*|__|`|\*", "", text)
    return text


# --- sentence handling ------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z0-9])|(?<=[。！？!?])|\n+")


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            bounds.append((start, match.start()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


# --- patterns ---------------------------------------------------------------------------------------
# Each pattern below is matched against the END of the text left of a name (``_L``) or the START of
# the text right of it (``_R``), within the name's sentence.

_I = r"(?:\bI\s+am|\bI'm|\bIm|\bI\s+m)"
_DESC_WORDS = (
    r"a|an|the|your|my|new|newest|latest|helpful|friendly|ai|a\.i\.|artificial|intelligence|assistant|model|language|"
    r"large|small|chatbot|chat|bot|version|instance|variant|edition|iteration|release|of|official|open-source|"
    r"open|source|virtual|conversational|just|simply|actually|indeed|really|here|digital|smart|intelligent|"
    r"reasoning|generative|text|llm|system|program|advanced|multimodal|multilingual|personal|called|named|"
    r"known|as|dubbed|literally|in|fact|truly|proudly|happily|currently|now|none|other|than|member|family|series|"
    r"part|one|kind|type|sort|form|incarnation|build|distilled|fine-tuned|finetuned|specifically|exactly|"
    r"running|deployed|deployment|hosted|served|via|through|on|code|,|-|—|:"
)
_DESC = rf"(?:(?:{_DESC_WORDS})[\s,:\-—]+){{0,9}}"
_HYPOTHETICAL = re.compile(
    r"(?:\b(?:if|whether|wonder(?:ing|s)?\s+if|ask(?:s|ed|ing)?\s+(?:if|whether)|whether\s+or\s+not)\s+"
    r"(?:I(?:'ll|\s+will|\s+would|'d|\s+should|\s+might|\s+can|\s+could)\s+(?:say|claim|admit|answer|respond|"
    r"pretend|reply|state)\s+(?:that\s+)?)?"
    r"|\b(?:you|they|people|users?|someone|some|many|others|he|she|it|one|folks|everyone)\s+(?:\w+\s+){0,2}?"
    r"(?:think|thinks|thought|believe|believes|assume|assumes|assumed|confuse[sd]?|mistake[sn]?|mistook|say|says|"
    r"said|claim|claims|claimed|call|calls|called|suggest|suggests|suspect|suspects|guess|guessed|imply|implies|"
    r"implied|accuse|accused|expect|expects|expected)\s+(?:that\s+|me\s+(?:of\s+being|to\s+be|as)\s+)?)"
    r"(?:I\s+am|I'm|I\s+was|I\s+might\s+be|I\s+could\s+be|I'd\s+be|I\s+would\s+be|me)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL_CJK = re.compile(r"(?:如果|假如|假设|以为|认为|觉得|问|询问|怀疑|是否|是不是|还是)\s*(?:我|你)")

# Negations, all languages, matched at the end of the left context.
_NEG_L = re.compile(
    r"(?:\b(?:not|never|neither|nor|no|n't)|n't|\bisn't|\bwasn't|\baren't|\bain't)\s+"
    r"(?:(?:a|an|the|actually|really|at\s+all|in\s+any\s+way|any|way|affiliated|associated|connected|related|"
    r"linked|tied|made|created|developed|built|trained|designed|produced|owned|programmed|operated|run|"
    r"part|product|version|instance|variant|from|by|with|of|at|to|in|based|on|powered|team|company|people|"
    r"affiliation|connection|relation|relationship|association|ties|link|endorsed|officially|even|"
    r"myself|itself|an?\s+ai\s+(?:assistant|model)|assistant|model|chatbot|one|bot|called|named|"
    r"sponsored|supported|funded|same|as|brand|branded|official|copy|clone|derivative|"
    r"derived|fine-tuned|finetuned|distilled|trained|employee|representative|spokes\w*|service|platform|"
    r"technology|tech|related|any)\s+){0,6}$"
    r"|(?:\bno\s+soy|\bno\s+fui|\bno\s+he\s+sido|\bno\s+estoy|\bno\s+tengo\s+relación\s+con|\bni|\bno\s+es|"
    r"\bnão\s+sou|\bnão\s+fui|\bnon\s+sono|\bnon\s+sono\s+stat[oa]|\bnon\s+ho|"
    r"\bne\s+suis\s+pas|\bje\s+suis\s+pas|\bpas|\bn'ai\s+pas\s+été|\bni|\baucun\w*\s+lien\s+avec|"
    r"\bnicht|\bkein\w*|\bweder|\bnoch|\bя\s+не|\bне|\bни|\bнет)\s+"
    r"(?:(?:un[ao]?|uno|el|la|los|las|lo|il|o|a|os|as|um|uma|de|del|por|par|le|les|l'|d'|des|créée?|développée?|conçue?|"
    r"entraînée?|affilié\w*|lié\w*|asociad\w*|afiliad\w*|cread[oa]|desarrollad[oa]|entrenad[oa]|"
    r"criad[oa]|desenvolvid[oa]|creat[oa]|sviluppat[oa]|addestrat[oa]|stat[oa]|da|dal|dalla|pel[oa]|"
    r"von|vom|der|die|das|dem|den|ein|eine|einem|einer|mit|entwickelt|erstellt|trainiert|gebaut|"
    r"verbunden|является|являюсь|был[аи]?|создан\w*|разработан\w*|обучен\w*|связан\w*|компанией|"
    r"модель\w*|с|от|—|-|,|en|modelo|modèle|modell|sprachmodell|asistente|assistant|assistent|"
    r"produit|producto|produkt|produto|prodotto)\s+){0,5}$"
    r"|(?:我不是|我并不是|我并非|我可不是|我也不是|不是由|并非由|并不是由|不是|并非|而不是|而非|也不是|既不是|"
    r"不属于|不是来自|与.{0,6}无关|没有关系|跟.{0,6}没关系)\s*(?:由|一个|一款|)\s*$",
    re.IGNORECASE,
)
_NEG_R = re.compile(
    r"^\s*(?:(?:では|じゃ)(?:ありません|ない|なく|ございません)|とは(?:関係|関わり|無関係)|"
    r"(?:が|이|가|은|는)?\s*아(?:닙니다|니에요|니야|니다|닌)|"
    r"(?:によって|により|が|の)(?:開発|作成|訓練|作ら)\S{0,8}(?:ではありません|ていません|ていない|たわけではありません)|"
    r"(?:에서|이|가)\s*(?:개발|만든|만들)\S{0,6}\s*(?:것이\s*)?아닙니다|"
    r"\s*(?:无关|没有关系|沒有關係)|"
    r"(?:,\s*)?(?:is\s+not|isn't|did\s+not|didn't|has\s+not|hasn't|had\s+nothing|has\s+nothing|have\s+nothing)\s+"
    r"(?:\w+\s+){0,2}?(?:me|my|to\s+do\s+with\s+me)\b)",
    re.IGNORECASE,
)
_COMPARE_L = re.compile(
    r"(?:\b(?:unlike|like|similar\s+to|compared\s+(?:to|with)|comparison\s+(?:to|with)|as\s+opposed\s+to|than|"
    r"such\s+as|including|e\.g\.,?|i\.e\.,?|versus|vs\.?|rather\s+than|instead\s+of|other\s+than|alternative\s+to|"
    r"alternatives\s+to|competitor\s+(?:to|of)|rival\s+(?:to|of)|as\s+well\s+as|along\s+with|"
    r"beside|besides|apart\s+from|except|against|over|from\s+(?:models|assistants|companies)\s+like|"
    r"different\s+from|distinct\s+from|independent\s+(?:of|from)|separate\s+from|unrelated\s+to|"
    r"a\s+diferencia\s+de|como|similar\s+a|comparad[oa]\s+con|en\s+comparación\s+con|tal\s+como|"
    r"contrairement\s+(?:à|au)|comme|à\s+la\s+différence\s+d[e']|par\s+rapport\s+(?:à|au)|similaire\s+à|"
    r"im\s+Gegensatz\s+zu(?:m|r)?|anders\s+als|wie|ähnlich\s+wie|verglichen\s+mit|im\s+Vergleich\s+zu(?:m|r)?|"
    r"в\s+отличие\s+от|как\s+и|подобно|по\s+сравнению\s+с|чем|например|таких\s+как|типа|"
    r"diferente\s+d[oea]|ao\s+contrário\s+d[oea]|a\s+differenza\s+di|rispetto\s+a|come)\s+"
    r"(?:(?:the|a|an|other|models?|assistants?|chatbots?|systems?|products?|el|la|los|las|le|les|l'|der|die|das|"
    r"dem|den|modelos|modèles|modelle)\s+){0,2}$)"
    r"|(?:不像|像|比如|例如|譬如|诸如|包括|类似于|类似|相比于|相较于|相比|对比|不同于|区别于|"
    r"例えば|たとえば|예를\s*들어)\s*$",
    re.IGNORECASE,
)
_COMPARE_R = re.compile(
    r"^\s*(?:[,，]?\s*(?:不同|不一样|相比|一样|相似|类似|那样|这样的|之类|等)|"
    r"(?:とは違|と違|とは異な|と異な|のような|のように|と同様|と比べ|に比べ|より|など|や|と同じ|とは別)|"
    r"(?:와|과|랑|이랑)\s*(?:달리|다르게|다른|비슷|마찬가지|같은|같이|비교)|처럼|같은\s|보다|등)",
)

_NAME_L = re.compile(
    rf"(?:{_I}|\bthis\s+is|\bit's|\bit\s+is\s+me,?|\bmy\s+name\s+is|\bmy\s+name's|\bthe\s+name's|\bthe\s+name\s+is|\bcall\s+me|\bI\s+go\s+by|"
    rf"\bI\s+am\s+called|\bI'm\s+called|\bI\s+was\s+named|\bI'm\s+known\s+as|\bI\s+am\s+known\s+as|"
    rf"\byou(?:'re|\s+are)\s+(?:\w+\s+)?(?:talking|chatting|speaking|interacting|conversing)\s+(?:to|with)|"
    rf"\bI\s+(?:identify|present)\s+(?:myself\s+)?as|\bI\s+(?:belong|am\s+part)\s+(?:to|of)|\bhere\s+is|"
    rf"\bI\s+run\s+on|\byour\s+assistant,?|\bI\s+was\s+(?:originally\s+)?(?:released|launched|introduced)\s+as|"
    rf"\b(?:model|assistant|AI|system|chatbot|bot)\s+(?:you(?:'re|\s+are)\s+(?:now\s+)?(?:using|talking\s+to|"
    rf"chatting\s+with|speaking\s+(?:to|with)|interacting\s+with)|(?:powering|behind|answering)\s+(?:this|you))\s+is)"
    rf"\s+{_DESC}$"
    r"|(?:\b(?:yo\s+)?soy|\bme\s+llamo|\bmi\s+nombre\s+es|\beu\s+sou|\bsou|\bmeu\s+nome\s+é|\bme\s+chamo|"
    r"\bje\s+suis|\bje\s+m'appelle|\bmon\s+nom\s+est|\bc'est|\bici|\bich\s+bin|\bich\s+heiße|\bmein\s+Name\s+ist|"
    r"\bhier\s+ist|\bsono|\bmi\s+chiamo|\bil\s+mio\s+nome\s+è|\bя|\bменя\s+зовут|\bмоё\s+имя|\bмое\s+имя|"
    r"\bэто|\bвы\s+общаетесь\s+с)\s*[—–\-:]?\s*"
    r"(?:(?:un[ao]?|el|la|le|l'|il|lo|ein|eine|der|die|das|o|a|um|uma|asistente|assistant|assistente|assistent|"
    r"modelo|modèle|modell|sprachmodell|modello|de|di|do|da|lenguaje|langage|linguagem|linguaggio|ia|ki|"
    r"inteligencia|intelligence|intelligenz|intelligenza|artificial|artificielle|artificiale|künstliche|"
    r"virtual|virtuel|virtuale|llamad[oa]|appelée?|genannt|namens|chiamat[oa]|chamad[oa]|называемый|"
    r"по\s+имени|ИИ|ассистент|модель|языковая|помощник|versión|version|versione|versão|nuevo|nouveau|neue|"
    r"nuovo|novo|grand|gran|große|grande|großes|große[sn]?|großer)[\s,]+){0,6}$"
    r"|(?:我是|我叫|我的名字是|我的名字叫|我名叫|我就是|我乃|本模型是|本助手是|我其实是|我实际上是|你正在与|您正在与|这里是|"
    r"私は|わたしは|僕は|ぼくは|わたくしは|私の名前は|わたしの名前は|저는|나는|제\s*이름은|저의\s*이름은|전|"
    r"我是[^，。,.!?！？]{0,30}(?:助手|模型|机器人|AI))\s*"
    r"(?:一个|一款|一名|一位|名为|叫做|叫|称为|被称为|AI助手|人工智能助手|智能助手|助手|模型|大模型|语言模型|"
    r"AIアシスタント|アシスタント|AI\s*어시스턴트|어시스턴트)?\s*$",
    re.IGNORECASE,
)
_NAME_R = re.compile(
    r"^(?:\s*(?:here|at\s+your\s+service|speaking|reporting|on\s+the\s+line)\b|\s*と申します|\s*です[。!！]?\s*$"
    r"|\s*(?:입니다|이에요|예요|라고\s*합니다)[.!]?\s*$|\s*(?:为您服务|為您服務|在此为您服务|竭诚为您服务))",
    re.IGNORECASE,
)
_AS_L = re.compile(
    r"(?:^|[,;:]\s*|\b(?:and|but|so)\s+)(?:as|als|en\s+tant\s+que|como|come|作为|身为)\s+$", re.IGNORECASE
)
_AS_R = re.compile(r"^\s*(?:'s\s+\w+\s*)?[,，]?\s*(?:I\b|my\b|je\b|j'|ich\b|yo\b|io\b|я\b|我)", re.IGNORECASE)

_MAKER_VERB = (
    r"(?:developed|created|made|built|trained|designed|engineered|produced|programmed|fine-tuned|finetuned|"
    r"released|launched|introduced|owned|operated|maintained|brought\s+to\s+you|trained\s+and\s+(?:released|developed)|"
    r"developed\s+and\s+(?:trained|released|maintained)|created\s+and\s+(?:trained|developed))"
)
_TEAM = (
    r"(?:(?:a|the|an)\s+)?(?:(?:talented|dedicated|amazing|brilliant|team\s+of\s+)?\s*(?:team|teams|group|researchers|"
    r"engineers|developers|scientists|people|folks|staff|company|lab|labs|organization|organisation|experts)\s+"
    r"(?:at|of|from|in|called|named|behind)\s+)?(?:the\s+)?"
)
_MAKER_L = re.compile(
    rf"\b{_MAKER_VERB}\s+(?:by|at|from|with)\s+{_TEAM}$"
    rf"|\b(?:my|our)\s+(?:creators?|developers?|makers?|parent\s+company|company|team|authors?|builders?|"
    rf"trainers?|designers?|owners?|origin|home|family)\s+(?:is|are|was|were|at|from|called|named|,)?\s*{_TEAM}$"
    rf"|\b(?:I\s+come|I\s+came|I\s+hail|I'm|I\s+am)\s+from\s+{_TEAM}$"
    rf"|\b(?:product|creation|project|invention|brainchild|offspring|child|work|model|assistant)\s+"
    rf"(?:of|from|by)\s+{_TEAM}$"
    rf"|\bI\s+(?:work|was\s+made|was\s+born)\s+(?:for|at|in)\s+{_TEAM}$"
    r"|\b(?:company|companies|team|organi[sz]ation|lab|people|folks|group|developers?|creators?|engineers|makers?)\s+"
    r"(?:that|which|who)\s+(?:\w+\s+){0,2}?(?:created|developed|made|built|trained|designed|released|owns|maintains|"
    r"runs|operates|programmed)\s+me\s+(?:is|are|was|were)\s+(?:the\s+)?(?:team\s+at\s+)?$"
    r"|\b(?:behind|responsible\s+for)\s+me\s+(?:is|are|was|were)\s+(?:the\s+)?(?:team\s+at\s+)?$"
    r"|(?:\b(?:cread[oa]|desarrollad[oa]|entrenad[oa]|hech[oa]|construid[oa]|diseñad[oa]|programad[oa])\s+"
    r"(?:por|en)\s+(?:el\s+equipo\s+de\s+|la\s+empresa\s+|la\s+compañía\s+|los\s+investigadores\s+de\s+)?"
    r"|\b(?:créée?|développée?|conçue?|entraînée?|formée?|fabriquée?|programmée?)\s+par\s+"
    r"(?:l'équipe\s+d[e']\s*|la\s+société\s+|l'entreprise\s+|les\s+chercheurs\s+d[e']\s*)?"
    r"|\b(?:entwickelt|erstellt|trainiert|gebaut|geschaffen|programmiert|entworfen)\s+(?:von|vom)\s+"
    r"(?:dem\s+Team\s+(?:von|bei)\s+|der\s+Firma\s+|dem\s+Unternehmen\s+)?"
    r"|\b(?:criad[oa]|desenvolvid[oa]|treinad[oa])\s+(?:pel[oa]s?|por)\s+(?:equipe\s+d[ao]\s+|empresa\s+)?"
    r"|\bme\s+(?:creó|desarrolló|entrenó|hizo|construyó|diseñó|creo|desarrollo|entreno|criou|desenvolveu|treinou)\s+"
    r"(?:el\s+equipo\s+de\s+|la\s+empresa\s+|a\s+|o\s+)?"
    r"|\bmi\s+ha(?:nno)?\s+(?:creat[oa]|sviluppat[oa]|addestrat[oa])\s+"
    r"|\bm'a\s+(?:créée?|développée?|conçue?|entraînée?)\s+|\bmich\s+hat\s+(?:die\s+Firma\s+)?"
    r"|\bменя\s+(?:создал[аи]?|разработал[аи]?|обучил[аи]?|сделал[аи]?)\s+(?:в\s+|компания\s+|команда\s+)?"
    r"|\b(?:creat[oa]|sviluppat[oa]|addestrat[oa]|progettat[oa])\s+(?:da|dal|dalla|dai)\s+(?:team\s+di\s+)?"
    r"|\b(?:создан[аоы]?|разработан[аоы]?|обучен[аоы]?|созданн\w+|разработанн\w+|обученн\w+)\s+"
    r"(?:компанией|командой|специалистами|инженерами|исследователями|в|компании)?\s*"
    r"|(?:由|来自|出自|來自)[^，。,.!?！？:：]{0,8}?\s*(?:公司|团队)?\s*)$",
    re.IGNORECASE,
)
_MAKER_L_OBJECT = re.compile(  # "ein von OpenAI entwickeltes Modell", "ich wurde von OpenAI trainiert", "由OpenAI开发"
    r"\b(?:von|vom)\s+$|(?:由|被)\s*$",
    re.IGNORECASE,
)
_MAKER_R_OBJECT = re.compile(
    r"^\s*(?:entwickelt|erstellt|trainiert|gebaut|geschaffen|programmiert|entworfen)"
    r"|^\s*(?:公司|团队|团队所|公司所|所)?\s*(?:开发|研发|创建|训练|打造|推出|构建|设计|制作|创造|开发的|研发的)",
    re.IGNORECASE,
)
_MAKER_R = re.compile(
    rf"^\s*(?:'s\s+(?:team\s+)?)?(?:has\s+|have\s+|had\s+)?(?:{_MAKER_VERB}|taught|gave\s+birth\s+to)\s+me\b"
    r"|^\s*(?:is|are|was)\s+(?:my|the\s+(?:company|team|organization|lab)\s+(?:that|which|who)\s+"
    r"(?:\w+\s+)?(?:created|developed|made|built|trained|designed)\s+me)\b"
    r"|^\s*(?:'s\s+(?:AI\s+)?(?:assistant|model|chatbot|language\s+model|LLM))\b"
    r"|^\s*(?:is|are|was|were)\s+(?:the\s+)?(?:company|team|lab|organi[sz]ation|one|ones|people|folks|group)\s+"
    r"(?:behind|responsible\s+for|that\s+(?:\w+\s+)?(?:created|developed|made|built|trained|designed))\s+me\b"
    r"|^\s*(?:me\s+(?:creó|desarrolló|entrenó)|m'a\s+(?:créée?|développée?|conçue?|entraînée?)|"
    r"hat\s+mich\s+(?:entwickelt|erstellt|trainiert|gebaut)|создал[аи]?\s+меня|разработал[аи]?\s+меня|"
    r"mi\s+ha\s+(?:creat[oa]|sviluppat[oa])|me\s+(?:criou|desenvolveu))",
    re.IGNORECASE,
)
_MAKER_R_CJK = re.compile(  # 深度求索开发的… / OpenAIによって開発された / OpenAI에서 개발한
    r"^\s*(?:\([^)]{0,30}\))?\s*(?:公司|团队|科技有限公司|有限公司)?\s*(?:开发|研发|创建|训练|打造|推出|构建|设计|制作|创造)"
    r"|^\s*(?:社|チーム)?\s*(?:によって|により|が|の手で|で)\s*(?:開発|作成|訓練|構築|設計|作ら|作っ|作成|トレーニング|生み出)"
    r"|^\s*(?:사|팀)?\s*(?:에서|이|가|에\s*의해|에\s*의해서)\s*(?:개발|만든|만들|훈련|학습|설계|제작)"
)
_FIRST_PERSON_CJK = re.compile(
    r"我|本助手|本模型|私|僕|わたし|わたくし|저는|저를|제가|나는|내가|(?:AI|アシスタント|モデル|チャットボット)\s*(?:です|である)"
    r"|(?:어시스턴트|모델|AI|챗봇|인공지능)\s*(?:입니다|이에요|예요)"
)
_BASE_L = re.compile(
    r"\b(?:based|built|running|run|founded|trained)\s+(?:on|upon|atop|on\s+top\s+of)\s+"
    r"(?:(?:the|a|an|model|models|architecture|weights|technology|tech|data|outputs?|version|versions|of)\s+){0,4}$"
    r"|\b(?:powered|driven|backed|fueled|fuelled)\s+by\s+(?:the\s+|a\s+)?$"
    r"|\b(?:distilled|derived|fine-tuned|finetuned|adapted|descended)\s+from\s+(?:the\s+|a\s+)?"
    r"(?:(?:model|models|architecture|weights|outputs?)\s+(?:of\s+)?)?$"
    r"|(?:基于|基於|基于的是|在)\s*$|\b(?:basado|basada|construido)\s+en\s+(?:el\s+|la\s+)?$"
    r"|\bbasée?\s+sur\s+(?:le\s+|la\s+)?$|\bbasiert\s+auf\s+(?:dem\s+|der\s+)?$|\bна\s+основе\s+$",
    re.IGNORECASE,
)
_SELF_ANCHOR = re.compile(
    r"\b(?:I\s+am|I'm|Im|I\s+was|I've\s+been|I\s+have\s+been|I\s+get|I\s+got|I\s+come|I\s+came|I\s+hail|"
    r"I\s+belong|I\s+run|I\s+use|I\s+work|I\s+exist|myself|my|me|as\s+an?)\b"
    r"|\b(?:soy|fui|he\s+sido|je\s+suis|j'ai\s+été|ich\s+bin|ich\s+wurde|sou|fui|sono|sono\s+stat[oa]|я|меня|мной|"
    r"moi|mich|mir|mein|meine|mon|ma|mi|mio|mia|meu|minha|мой|моя)\b|我|私|僕|저는|나는|제가",
    re.IGNORECASE,
)
_GAP_BLOCK = re.compile(
    r"\b(?:it|its|they|their|them|he|she|his|her|this|these|those|think|thinks|know|knows|believe|believes|"
    r"heard|read|whereas|while|although|though|unlike|like|than|similar|compared|such|not|never|"
    r"you|your|users?|people|someone|models|assistants|chatbots|if|whether)\b",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(?:I\s+(?:can't|cannot|can\s+not|won't|am\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to|"
    r"'m\s+not\s+able\s+to|must\s+decline|have\s+to\s+decline|do\s+not\s+have|don't\s+have)|"
    r"I'm\s+sorry|I\s+am\s+sorry|I\s+apologi[sz]e|not\s+able\s+to\s+(?:share|disclose|reveal))\b"
    r"|抱歉|对不起|无法|不能透露|不便透露|申し訳|できません|죄송|할\s*수\s*없|lo\s+siento|no\s+puedo|désolée?|"
    r"je\s+ne\s+peux\s+pas|es\s+tut\s+mir\s+leid|ich\s+kann\s+nicht|извините|не\s+могу|к\s+сожалению",
    re.IGNORECASE,
)
_GENERIC_SELF = re.compile(
    rf"{_I}\s+(?:just\s+|simply\s+|only\s+)?(?:an?\s+)?(?:\w+\s+){{0,3}}?"
    r"(?:ai|a\.i\.|assistant|language\s+model|chatbot|bot|model|llm|artificial\s+intelligence|program|machine)\b"
    r"|我是(?:一个|一款|一名)?\s*(?:\S{0,6})?(?:AI|人工智能|助手|语言模型|模型|机器人)"
    r"|私は\s*(?:AI|人工知能|アシスタント|言語モデル)|저는\s*(?:AI|인공지능|어시스턴트|언어\s*모델)"
    r"|\b(?:soy|je\s+suis|ich\s+bin|sou|sono|я)\s+(?:un[ae]?|ein[e]?|um[a]?)?\s*(?:\w+\s+){0,2}?"
    r"(?:asistente|assistant|assistente|assistent|modelo|modèle|modell|sprachmodell|modello|ia|ki|ии|ассистент|"
    r"помощник|модель|intelligence|inteligencia|intelligenza|inteligência)\b",
    re.IGNORECASE,
)
_GENERIC_NAMES = {
    "assistant", "ai", "a", "an", "the", "here", "sorry", "happy", "glad", "not", "just", "your", "artificial",
    "language", "bot", "chatbot", "model", "sure", "hello", "hi", "able", "unable", "afraid", "always",
    "currently", "also", "still", "really", "actually", "unsure", "unknown", "nobody", "anonymous", "nameless",
    "none", "i", "asistente", "ia", "ki", "ии", "ассистент", "helpful", "virtual", "large", "assistente",
    "assistent", "modelo", "modèle", "modell", "modello", "un", "una", "une", "ein", "eine", "llm", "gpt",
    "dr", "mr", "ms", "mrs", "system", "chat", "excited", "delighted", "pleased", "ready", "available", "built",
    "designed", "created", "developed", "trained", "made", "programmed", "based", "powered", "called", "named",
    "known", "only", "simply", "merely", "definitely", "certainly", "thrilled", "curious", "honored",
    "honoured", "grateful", "thankful", "capable", "no", "yes", "well", "okay", "ok", "good", "fine",
    "great", "doing", "going", "trying", "looking", "here's", "new", "cognitive", "assistant's",
}
_UNKNOWN_NAME = re.compile(
    r"(?:\bmy\s+name\s+is|\bmy\s+name's|\bthe\s+name's|\bcall\s+me|\bI\s+go\s+by|\bI\s+am\s+called|\bI'm\s+called|"
    r"\bI\s+am\s+known\s+as|\bI'm\s+known\s+as|\bme\s+llamo|\bmi\s+nombre\s+es|\bje\s+m'appelle|\bmon\s+nom\s+est|"
    r"\bich\s+heiße|\bmein\s+Name\s+ist|\bменя\s+зовут|\bmi\s+chiamo|\bme\s+chamo|\bmeu\s+nome\s+é)\s+"
    r"(?:(?:Dr|Mr|Ms|Mrs|Prof|Professor|Doctor|Captain|Sir|Lady|Miss)\.?\s+)?(?P<name>(?-i:[A-ZÀ-ÖØ-ÞА-ЯЁ])[\w'.-]*(?:\s+(?-i:[A-ZÀ-ÖØ-ÞА-ЯЁ])[\w'-]*){0,2})"
    rf"|(?:{_I}|\bsoy|\bje\s+suis|\bich\s+bin|\bsono|\bя)\s+(?:(?:Dr|Mr|Ms|Mrs|Prof|Professor|Doctor|Captain|Sir|Lady|Miss)\.?\s+)?"
    r"(?P<name2>(?-i:[A-ZÀ-ÖØ-ÞА-ЯЁ])[\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?)"
    r"\s*[,!.—–-]\s*(?:(?:your|a|an|the|un[ae]?|ein[e]?|ваш|твой)\s+)?(?:\w+\s+){0,3}?"
    r"(?:ai|assistant|language\s+model|model|chatbot|bot|companion|helper|asistente|assistente|assistent|modelo|"
    r"modèle|modell|ии|ассистент|помощник|модель|created|developed|built|made|trained|designed|here\s+to)\b"
    r"|(?:我叫|我的名字是|我的名字叫|我名叫|私の名前は|わたしの名前は|제\s*이름은)\s*(?P<name3>[^\s,，。.!！?？、]{1,16})"
    r"|(?P<name4>[^\s,，。.!！?？、]{1,16})\s*と申します"
    r"|(?:^|\b(?:hi|hello|hey|greetings)[,!]?\s+)(?P<name7>(?-i:[A-Z][\w.-]{1,20}(?:\s+[A-Z][\w.-]{1,20})?))\s+"
    r"here\b(?!\s+(?:is|are|to|and))"
    r"|\byou(?:'re|\s+are)\s+(?:now\s+)?(?:talking|chatting|speaking)\s+(?:to|with)\s+"
    r"(?P<name8>(?-i:[A-Z][\w.-]{1,20}(?:\s+[A-Z][\w.-]{1,20})?))"
    r"|(?:\bI\s+am|\bI'm)\s+(?:(?:Dr|Mr|Ms|Mrs|Prof|Professor|Doctor|Captain|Sir|Lady|Miss)\.?\s+)?"
    r"(?P<name6>(?-i:[A-Z][a-z]{1,20}(?:\s+[A-Z][a-z]{1,20})?))\s*[!.]\s*(?=$|\n|(?-i:[A-Z]))"
    r"|(?:我是|我叫)\s*(?P<name5>[A-Za-z][\w .-]{0,20}?)\s*[，,]\s*(?:一个|一款|一名|一位|你的|您的|是)",
    re.IGNORECASE,
)
_NAME_GROUPS = ("name", "name2", "name3", "name4", "name5", "name6", "name7", "name8")
_UNKNOWN_MAKER = re.compile(
    rf"{_MAKER_VERB}\s+(?:by|at)\s+(?:the\s+(?:team|folks|researchers|engineers)\s+at\s+)?"
    r"(?P<org>(?-i:[A-Z][\w.&'-]*(?:\s+(?:[A-Z][\w.&'-]*|AI|Labs?|Inc\.?|Research)){0,3}))",
    re.IGNORECASE,
)
_GENERIC_ORGS = {
    "i", "a", "the", "an", "my", "our", "humans", "human", "people", "researchers", "engineers", "developers",
    "experts", "scientists", "ai", "team", "volunteers", "users", "openai's", "machine", "deep", "data",
    "large", "training", "instructions", "reinforcement", "human feedback", "rlhf",
}


# --- the rule layer -------------------------------------------------------------------------------


def apply_rules(text: str, aliases: Aliases) -> RuleResult:
    """Find every name in ``text``, give each a role, and decide the rule verdict."""
    text = normalize_text(text)
    flags: set[str] = set()
    if _REFUSAL.search(text):
        flags.add("refusal")
    if _GENERIC_SELF.search(text):
        flags.add("generic_self")
    if re.search(r"\b(?:I|me|my|I'm)\b|我|私|저는|\b(?:soy|je|ich|я|sono|sou)\b", text, re.IGNORECASE):
        flags.add("first_person")
    if "?" in text or "？" in text:
        flags.add("question")

    roles: list[RoleHit] = []
    for start, end in _sentence_bounds(text):
        sentence = text[start:end]
        previous: RoleHit | None = None
        previous_end = 0
        third_person = False  # "CopilotはMicrosoftが…": the sentence is about another model
        for hit in aliases.find(sentence):
            left, right = sentence[: hit.start], sentence[hit.end :]
            role = _role(left, right, sentence, hit, previous, sentence[previous_end : hit.start], third_person)
            if role not in ("name", "creator") and _TOPIC.match(right):
                third_person = True
            evidence = _evidence(sentence, hit, role)
            current = RoleHit(AliasHit(hit.start + start, hit.end + start, hit.text, hit.identity, hit.label),
                              role, evidence)
            roles.append(current)
            previous, previous_end = current, hit.end
    if roles and not any(role.role in ("name", "creator") for role in roles):
        # The patterns found no claim: the script-independent layer places what they left as mentions.
        placed = place_unplaced(text, [role.hit for role in roles], [role.role for role in roles],
                                first_person="first_person" in flags)
        roles = [RoleHit(role.hit, placed[i].role, placed[i].evidence) if i in placed else role
                 for i, role in enumerate(roles)]
    unknown = _unknown_claims(text, roles, aliases)
    if not unknown and not any(role.role in ("name", "creator") for role in roles):
        unknown = named_unknowns(text, [role.hit for role in roles])
    label, strength, decisive = _verdict(roles, unknown)
    if unknown:
        flags.add("unknown_claim")
    return RuleResult(label, strength, decisive, tuple(roles), tuple(unknown), frozenset(flags))


_CONJUNCTION = re.compile(
    r"^\s*(?:,|/|、|，|or|and|nor|neither|either|&|o|ou|oder|und|или|и|ни|y|e|ni|或|或者|和|与|及|以及|也不是|とか|や|と|나|이나|와|과)?"
    r"\s*(?:its|their|the|his|her|of|de|des|von)?\s*(?:,|、|，)?\s*$",
    re.IGNORECASE,
)


_NAME_THEN_MAKER = re.compile(
    r"^[\s,—–-]*(?:(?:an?|the|your)\s+)?(?:[\w-]+\s+){0,5}?(?:by|from|of|at|de|von|par|da|от|由|来自)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_NAME_THEN_MAKER_BLOCK = re.compile(
    r"\b(?:and|but|or|fan|fans|love|like|than|not|unlike|compared|similar|alternative|rival|competitor|instead|"
    r"user|users|customer|customers|friend|friends)\b",
    re.IGNORECASE,
)
_TOPIC = re.compile(r"^\s*(?:は|는|은|是|也是|就是|乃是|，是|,\s*是)")
_ENDS_COPULA = re.compile(r"^\s*(?:です|でございます|입니다|이에요|예요|이야|야)\s*[。.!！]?\s*$")


def _role(left: str, right: str, sentence: str, hit: AliasHit, previous: RoleHit | None, between: str,
          third_person: bool = False) -> Role:
    # A name right after another, joined by "or"/"and"/"," shares its role: "not ChatGPT or Claude".
    if (
        previous is not None
        and _CONJUNCTION.match(between)
        and (previous.role in ("negated", "compared", "mention") or previous.hit.label == hit.label)
    ):
        return previous.role
    tail = left[-160:]
    if _NEG_L.search(tail) or _NEG_R.match(right):
        return "negated"
    if _COMPARE_L.search(tail) or _COMPARE_R.match(right):
        # "I'm an AI like ChatGPT" is a comparison; "I am ChatGPT and ..." was decided above.
        return "compared"
    if _is_hypothetical(tail):
        return "mention"
    if (
        previous is not None
        and previous.role == "name"
        and _NAME_THEN_MAKER.match(between)
        and not _NAME_THEN_MAKER_BLOCK.search(between)
    ):
        return "creator"  # "I'm Qwen by Alibaba Cloud", "I'm Phi, a small model from Microsoft"
    if _NAME_L.search(tail) or (_NAME_R.match(right) and _starts_sentence(left)):
        return "name"
    if _AS_L.search(tail) and _AS_R.match(right):
        return "name"
    if _MAKER_L.search(tail) and _anchored(tail):
        return "creator"
    if _MAKER_L_OBJECT.search(tail) and _MAKER_R_OBJECT.match(right) and _anchored(tail + right[:40]):
        return "creator"
    if _MAKER_R.match(right):
        return "creator"
    if not third_person:
        # Japanese and Korean drop the subject: "OpenAIが開発したAIです", "…ChatGPTです" speak of oneself.
        if _MAKER_R_CJK.match(right) and _FIRST_PERSON_CJK.search(sentence):
            return "creator"
        if _ENDS_COPULA.match(right):
            return "name"
    if _BASE_L.search(tail) and _anchored(tail):
        return "base"
    return "mention"


def _is_hypothetical(tail: str) -> bool:
    window = tail[-80:]
    if _HYPOTHETICAL_CJK.search(window[-14:]):
        return True
    matches = list(_HYPOTHETICAL.finditer(window))
    if not matches:
        return False
    match = matches[-1]
    return not re.search(r"[.;!?,，。]|\bbut\b", window[match.end() :])


def _starts_sentence(left: str) -> bool:
    return not re.search(r"\w", re.sub(r"^(?:hi|hello|hey|greetings|yes|yeah|well|sure|so|oh)\b[,!.]?", "",
                                       left.strip(), flags=re.IGNORECASE))


def _anchored(tail: str) -> bool:
    """A maker phrase counts as a self-claim only when a first-person self-description governs it."""
    anchors = list(_SELF_ANCHOR.finditer(tail))
    if not anchors:
        return False
    gap = tail[anchors[-1].end() :]
    # "I know ChatGPT was developed by ..." : another subject between "I" and the maker phrase.
    return not _GAP_BLOCK.search(gap) or bool(re.search(r"[我私]|저는|나는", gap))


def _evidence(sentence: str, hit: AliasHit, role: Role) -> str:
    start = max(0, hit.start - 80)
    end = min(len(sentence), hit.end + 40)
    snippet = sentence[start:end].strip()
    if start > 0:
        snippet = "…" + snippet
    if end < len(sentence):
        snippet = snippet + "…"
    return snippet


def _unknown_claims(text: str, roles: list[RoleHit], aliases: Aliases) -> list[str]:
    """Specific identities the table does not know: "My name is Aria", "created by Opera Labs"."""
    found = []
    known_spans = [(role.hit.start, role.hit.end) for role in roles]
    for match in _UNKNOWN_NAME.finditer(text):
        name_group = next(g for g in _NAME_GROUPS if match.group(g) is not None)
        name = match.group(name_group).strip(" .,'")
        start, end = match.start(name_group), match.end(name_group)
        if any(a < end and start < b for a, b in known_spans):
            continue  # a known name ("Code Llama here"): the alias roles decide
        first = re.split(r"[\s,]", name)[0].casefold().strip(".")
        if first in _GENERIC_NAMES or not name or re.fullmatch(r"[\W\d_]+", name):
            continue
        if re.match(r"(?:一个|一款|一名|AI|人工智能|助手|アシスタント)", name):
            continue
        if _is_hypothetical(text[max(0, match.start() - 80) : match.start() + 6]):
            continue
        if _NEG_L.search(text[max(0, start - 60) : start]):
            continue
        found.append(_clip(text, match.start(), match.end()))
    for match in _UNKNOWN_MAKER.finditer(text):
        org = match.group("org")
        start = match.start("org")
        if any(a <= start < b for a, b in known_spans) or org.casefold() in _GENERIC_ORGS:
            continue
        if org.split()[0].casefold() in _GENERIC_ORGS:
            continue
        if not _anchored(text[max(0, match.start() - 160) : match.start()]):
            continue
        if _NEG_L.search(text[max(0, match.start() - 40) : match.start() + len(match.group(0)) - len(org)]):
            continue
        found.append(_clip(text, match.start(), match.end()))
    return found


def _clip(text: str, start: int, end: int) -> str:
    line_start = max(text.rfind("\n", 0, start) + 1, start - 60)
    return text[line_start:end].strip()


def _verdict(roles: list[RoleHit], unknown: list[str]) -> tuple[str | None, Strength, str | None]:
    names = [role for role in roles if role.role == "name"]
    makers = [role for role in roles if role.role == "creator"]
    bases = [role for role in roles if role.role == "base"]
    claims = names + makers
    if claims:
        decided = names[0] if names else makers[0]
        labels = {role.hit.label for role in claims}
        strength: Strength = "strong" if len(labels) == 1 else "mixed"
        return decided.hit.label, strength, decided.evidence
    if unknown:
        return "other", "weak", unknown[0]
    if bases:
        return bases[0].hit.label, "weak", bases[0].evidence
    return None, "none", None
